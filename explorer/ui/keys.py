"""Every key this app keeps in ``st.session_state``, in one place.

One user's state lives in their browser session's ``st.session_state``; nothing here is shared
between users. The values are the keys themselves and never change (a test or a saved page
refers to them). Widget keys the code reads or sets are here too: ``W_*`` for the Explorer's
sidebar and panels, ``CW_*`` for the Convolution page's. Widgets the code only draws keep their
key next to the widget (``w_<settings field>`` for the sidebar's, see explorer.ui.sidebar).
"""

RUN = "run"  # the Explorer's Run: settings, dataset, Stepper, metrics
GRAPH = "graph"  # the network graph's chart (its selection is the clicked neuron)
GRAPH_SENT = "_graph_sent"  # per chart key, the digests of the last figure sent
KEPT_FIGURES = "_kept_figures"  # figure key -> (what it was built from, figure)
GUARD_MESSAGES = "guard_messages"  # refusals waiting to be shown, by place
LINK = "link"  # where refusals of a shared link are shown
OPEN_IN_EXPLORER = "open_in_explorer"  # a network handed to the Explorer by another page
GOTO_PAGE = "goto_page"  # the page to switch to on the next run
LINK_READ = "link_read"  # the shared link already opened in this session
LINK_WARNINGS = "link_warnings"  # what opening the shared link had to say
PRESENTER = "presenter"  # presenter mode, kept across pages
WEIGHT_EDIT = "weight_edit"  # the hand edit of a weight being typed
DRAW_CANVAS = "draw_canvas"  # the drawn digit's canvas
DRAW_PANEL = "draw_panel"  # the drawing expander: open or closed
SESSION_FILE = "session_file"  # the guard's place for a refused session file
TRAIN_JOB = "train_job"  # Training views: the running 'train N epochs' job
FULL_TRAINING_JOB = "ft_job"  # Full training: the running FullTraining
FULL_TRAINING_ERROR = "ft_start_error"  # why full training could not start
PARAMS_FILE = "params_file"  # the guard's place for a refused parameters file
GEN_JOB = "gen_job"  # Generalisation: the running sweep
GEN_CHECK = "gen_check"  # Generalisation: the running check of a drawn digit
GEN_ERROR = "gen_error"  # the guard's place for a refused generalisation run
GEN_CANVAS = "gen_canvas"  # Generalisation: the drawn digit's canvas
RACE_JOB = "gpu_race"  # the CPU-vs-GPU race
COMPARE_RESULT = "cmp_result"  # Compare: the last comparison
COMPARE_BASE = "cmp_base"  # Compare: the preset's base settings; None: the sidebar's
COMPARE_EDITOR = "cmp_editor"  # Compare: the editor's widget values, kept across pages
LESSON = "lesson_key"  # the chosen lesson, kept across pages
LESSON_RUN = "lesson_run"  # (lesson key, step index, the Run that step built)
LESSON_LOAD = "lesson_load"  # where a refused lesson step is reported
LESSON_MOVED = "lesson_moved"  # a step was loaded from inside the fragment: redraw the sidebar too
LESSON_CONV = "lesson_conv"  # (lesson key, step index, the ConvRun that step opened)
LESSON_CONV_LOAD = "lesson_conv_load"  # where a lesson step's CNN that cannot be built is reported
CONV_RUN = "conv_run"  # the Convolution page's ConvRun
CONV_BUILD = "conv_build"  # the guard's place for a CNN that cannot be built
CONV_TAB = "cw_tab"  # the Convolution page's open tab
CONV_COMPARED = "conv_compared"  # the last learned-vs-hand-made comparison
CONV_COMPARE_EPOCHS = "cw_compare_epochs"  # the side-by-side's epochs
CONV_LINK = "conv_link"  # the guard's place for a CNN link that cannot be opened
CONV_LINK_READ = "conv_link_read"  # the CNN link already opened in this session
CONV_LINK_WARNINGS = "conv_link_warnings"  # what opening the CNN link had to say
CONV_SESSION_FILE = "conv_session_file"  # the guard's place for a refused CNN session file
CONV_PARAMS_FILE = "conv_params_file"  # the guard's place for a refused CNN parameters file
CONV_PREPARED_FILE = "conv_prepared_file"  # the CNN session file prepared for download
CONV_STARTED_FROM = "ft_conv_settings"  # the builder's choices the CNN full run started from
GRADIENT_CHECK = "gradient_check"  # the last gradient check and where it was taken
PREPARED_FILES = "prepared_files"  # the session and parameters files prepared for download
UPLOADED = "uploaded"  # the user's uploaded dataset
UPLOAD_SIGNATURE = "upload_signature"  # which upload that dataset was read from
FILE_PARAMS = "ft_file_params"  # parameters read from an uploaded file, to start full training from
FILE_CHECK = "ft_check"  # the uploaded parameters file's check, or why it was refused
COMPARE_N = "cmp_n"  # Compare: how many runs the editor shows
COMPARE_STEPS = "cmp_steps"  # Compare: the steps each run takes
COMPARE_PRESET = "cmp_preset"  # Compare: the chosen preset

# widgets read or set through st.session_state
W_PLAY = "w_play"
W_RUN_N = "w_run_n"
W_SAMPLE = "w_sample"
W_DATASET = "w_dataset"
W_LAYERS = "w_layers"
W_HEAD = "w_head"
W_LESSON = "w_lesson"
W_PRESENTER = "w_presenter"
W_TR_EPOCHS = "w_tr_epochs"
W_TR_UNIT = "w_tr_unit"
W_FT_BACKEND = "w_ft_backend"
W_FT_BATCH = "w_ft_batch"
W_FT_PARAMS = "w_ft_params"
W_SESSION_FILE = "w_session_file"
W_GEN_EPOCHS = "w_gen_epochs"
CW_PLAY = "cw_play"
CW_RUN_N = "cw_run_n"
CW_SAMPLE = "cw_sample"
CW_DATASET = "cw_dataset"
CW_MOMENTUM = "cw_momentum"
CW_WEIGHT = "cw_weight"
CW_SESSION_FILE = "cw_session_file"
CW_PARAMS_FILE = "cw_params_file"
