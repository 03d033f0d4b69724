"""Numbers computed from the engine's state for the views: the inspector's, what the network
learned, comparisons, the gradient check's verdict, and the lessons' live claims."""
