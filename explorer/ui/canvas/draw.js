// The "Draw a digit" canvas: black ink on white (as the graph draws a digit), drawn with a mouse, pen or finger.
// When a stroke ends, every stroke so far goes to Python as the state value "strokes": a list
// of strokes, each a list of [x, y] points in canvas pixels (data.size square). Clear empties
// the canvas and sends []. Python rasterises the strokes itself (explorer/digit_input.py), with
// the same brush width (data.brush) as drawn here.
export default function (component) {
  const { data, parentElement, setStateValue } = component;
  const canvas = parentElement.querySelector("canvas");
  const clear = parentElement.querySelector("button");
  const ctx = canvas.getContext("2d");
  canvas.width = canvas.height = data.size;
  // The drawing lives on the element: this function runs again whenever Python sends new data,
  // and must not lose a stroke in progress. A new element (remounted) starts from Python's copy.
  if (canvas.drawing === undefined) canvas.drawing = { strokes: data.strokes, current: null };
  const drawing = canvas.drawing;

  function paint() {
    ctx.fillStyle = "white";
    ctx.fillRect(0, 0, data.size, data.size);
    Object.assign(ctx, {
      strokeStyle: "black",
      lineWidth: data.brush,
      lineCap: "round",
      lineJoin: "round",
    });
    for (const stroke of drawing.strokes) {
      ctx.beginPath();
      ctx.moveTo(...stroke[0]);
      for (const xy of stroke) ctx.lineTo(...xy); // a lone point becomes a round dot
      ctx.stroke();
    }
  }

  function point(event) {
    const box = canvas.getBoundingClientRect();
    const scale = data.size / box.width;
    const round = (v) => Math.round(v * scale * 10) / 10;
    return [round(event.clientX - box.left), round(event.clientY - box.top)];
  }

  const listening = new AbortController();
  const on = (target, type, handler) =>
    target.addEventListener(type, handler, { signal: listening.signal });
  on(canvas, "pointerdown", (event) => {
    canvas.setPointerCapture(event.pointerId);
    drawing.current = [point(event)];
    drawing.strokes = [...drawing.strokes, drawing.current];
    paint();
  });
  on(canvas, "pointermove", (event) => {
    if (drawing.current === null) return;
    drawing.current.push(point(event));
    paint();
  });
  const end = () => {
    if (drawing.current === null) return;
    drawing.current = null;
    setStateValue("strokes", drawing.strokes);
  };
  on(canvas, "pointerup", end);
  on(canvas, "pointercancel", end);
  on(clear, "click", () => {
    drawing.strokes = [];
    paint();
    setStateValue("strokes", []);
  });
  paint();
  return () => listening.abort();
}
