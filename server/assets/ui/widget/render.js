// How any module asks for the panel to be redrawn from the state. The one function that draws
// it, drawPanel() in panel.js, needs the queue, leave, start and message views, so those views
// (and the frame handlers) cannot import it without an import cycle: they call render() here,
// which main.js points at drawPanel() before anything can call it.

let draw = () => {};

/** Sets the function that draws the whole panel (main.js, once, at load). */
export function setRenderer(fn) { draw = fn; }

/** Redraws the panel now (synchronously: callers move the focus right after it). */
export function render() { draw(); }
