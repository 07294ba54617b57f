// The widget's styles, inside its shadow root (the host page's CSS cannot reach them and they
// cannot leak out). Colours meet WCAG 2.1 AA contrast; the panel fills a phone's screen.

export const CSS = `
:host { all: initial; }
*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
.root { font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #1b1b1b; }
.vh { position: absolute !important; width: 1px; height: 1px; margin: -1px; padding: 0; border: 0; overflow: hidden; clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap; }
button, input, select, textarea { font: inherit; color: inherit; margin: 0; }
h2, h3, p { margin: 0; }
:focus { outline: 3px solid #0b0c0c; outline-offset: 2px; }
:focus:not(:focus-visible) { outline: none; }
[tabindex="-1"]:focus { outline: none; }
.launcher { position: fixed; right: 16px; bottom: 16px; z-index: 2147483000; display: inline-flex; align-items: center; gap: 8px;
  min-height: 52px; padding: 10px 18px; border: 2px solid #fff; border-radius: 999px; background: #0a4f8f; color: #fff;
  font-size: 17px; font-weight: 600; cursor: pointer; box-shadow: 0 4px 14px rgba(0,0,0,.35); }
.launcher:hover { background: #083d70; }
.launcher svg { width: 24px; height: 24px; fill: currentColor; flex: none; }
.badge { min-width: 24px; padding: 0 7px; border-radius: 999px; background: #b3261e; color: #fff; font-size: 14px; line-height: 24px; text-align: center; }
.panel { position: fixed; right: 16px; bottom: 84px; z-index: 2147483001; display: flex; flex-direction: column;
  width: 390px; max-width: calc(100vw - 32px); height: 640px; max-height: calc(100vh - 104px); overflow: hidden;
  background: #fff; color: #1b1b1b; border: 1px solid #767676; border-radius: 12px; box-shadow: 0 10px 40px rgba(0,0,0,.3);
  animation: lk-in .18s ease-out; }
@keyframes lk-in { from { opacity: 0; transform: translateY(12px); } to { opacity: 1; transform: none; } }
.head { display: flex; flex-wrap: wrap; align-items: center; gap: 8px; padding: 8px 8px 8px 16px; background: #0a4f8f; color: #fff; }
.head-actions { display: flex; flex: 1 0 100%; flex-wrap: wrap; justify-content: flex-end; gap: 8px; }
.head :focus { outline-color: #fff; }
.head .titles { flex: 1; min-width: 0; }
.head h2 { font-size: 18px; }
.identity { font-size: 14px; }
.icon-btn { min-width: 44px; min-height: 44px; padding: 0; border: 2px solid transparent; border-radius: 8px; background: transparent; color: #fff; font-size: 28px; line-height: 1; cursor: pointer; }
.icon-btn:hover, .head-btn:hover { border-color: #fff; }
.head-btn { min-height: 40px; padding: 4px 12px; border: 2px solid #fff; border-radius: 8px; background: #0a4f8f; color: #fff; font-size: 15px; font-weight: 600; cursor: pointer; }
.conn, .notice { padding: 6px 16px; font-size: 15px; }
.conn { background: #fff4ce; color: #3d2f00; border-bottom: 1px solid #a68a00; }
.notice { background: #eef4fb; color: #1b1b1b; border-bottom: 1px solid #6e8fb3; }
.conn:empty, .notice:empty { padding: 0; border: 0; }
.urgent { margin: 0; padding: 10px 16px; background: #fdecec; color: #6e0d10; border-bottom: 2px solid #b3261e; font-weight: 700; font-size: 16px; }
.idform { padding: 10px 16px; border-bottom: 1px solid #c4c4c4; background: #f7f7f7; }
.row { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 8px; }
.scroll { flex: 1; min-height: 0; overflow-y: auto; padding: 12px 16px; overscroll-behavior: contain; }
.intro { margin-bottom: 6px; }
.emerg { margin-bottom: 14px; font-weight: 600; }
.field { margin: 0 0 14px; }
label, legend { display: block; margin-bottom: 4px; font-weight: 600; }
.req { font-weight: 400; color: #4a4a4a; }
select, textarea, input[type=text] { display: block; width: 100%; min-height: 44px; padding: 8px 10px; border: 2px solid #5a5a5a; border-radius: 6px; background: #fff; color: #1b1b1b; }
textarea { resize: vertical; }
::placeholder { color: #5f5f5f; opacity: 1; }
[aria-invalid="true"] { border-color: #b00020; }
.err { margin-top: 4px; color: #b00020; font-size: 15px; font-weight: 600; }
.btn { display: inline-flex; align-items: center; justify-content: center; min-height: 44px; padding: 8px 18px;
  border: 2px solid #0a4f8f; border-radius: 8px; background: #0a4f8f; color: #fff; font-weight: 600; cursor: pointer; }
.btn:hover { background: #083d70; }
.btn:disabled { border-color: #767676; background: #767676; cursor: not-allowed; }
.btn-secondary { background: #fff; color: #0a4f8f; }
.btn-secondary:hover { background: #eef4fb; }
.btn-block { width: 100%; }
.btn-small { min-height: 40px; padding: 4px 14px; font-size: 15px; }
.btn-danger { border-color: #a4161a; background: #a4161a; }
.btn-danger:hover { background: #7d1013; }
.leavebox { padding: 10px 16px; border-bottom: 1px solid #a68a00; background: #fff4ce; color: #3d2f00; }
.leave-q { font-weight: 600; }
.muted { color: #4a4a4a; font-size: 15px; }
.svc-closed { margin-bottom: 14px; padding: 10px 12px; border-left: 5px solid #b3261e; background: #fdf1f0; overflow-wrap: anywhere; }
.svc-closed h3, .queue h3, .closed h3 { margin-bottom: 4px; font-size: 17px; }
.svc-closed p + p { margin-top: 6px; }
.queue { flex: none; margin: 10px 12px 0; padding: 10px 12px; border: 1px solid #6e8fb3; border-radius: 8px; background: #eef4fb; }
.queue strong { font-size: 20px; }
.unstaffed { margin-top: 2px; font-weight: 600; }
.queue .muted { margin-top: 4px; }
.queue-note { margin: 6px 0 8px; }
.log { display: flex; flex-direction: column; gap: 8px; }
.msg { max-width: 85%; padding: 8px 12px; border-radius: 12px; }
.msg-client { align-self: flex-end; background: #0a4f8f; color: #fff; border-bottom-right-radius: 4px; }
.msg-professional { align-self: flex-start; background: #eceff3; color: #1b1b1b; border-bottom-left-radius: 4px; }
.msg-system { align-self: center; max-width: 100%; padding: 2px 8px; color: #4a4a4a; font-size: 14px; text-align: center; }
.meta, .state { font-size: 13px; }
.msg-client .meta, .msg-client .state { color: #e3eefa; }
.msg-professional .meta { color: #4a4a4a; }
.who { font-weight: 700; }
.body { white-space: pre-wrap; overflow-wrap: anywhere; }
.state { text-align: right; }
.msg.withdrawn .body { font-style: italic; }
.msg[data-state="failed"] { border: 2px solid #b00020; background: #fdf1f0; color: #1b1b1b; }
.msg[data-state="failed"] .meta, .msg[data-state="failed"] .state { color: #b00020; }
.typing { margin-top: 8px; color: #4a4a4a; font-size: 15px; font-style: italic; animation: lk-pulse 1.4s ease-in-out infinite; }
@keyframes lk-pulse { 50% { opacity: .55; } }
.closed { margin-top: 14px; padding-top: 12px; border-top: 1px solid #c4c4c4; }
.closed > p { margin-bottom: 10px; }
fieldset { margin: 0 0 12px; padding: 0; border: 0; }
.stars { display: flex; gap: 6px; }
.stars label { display: inline-flex; flex: 1 1 0; min-width: 0; max-width: 64px; justify-content: center; align-items: center; gap: 6px; min-height: 44px; margin: 0; padding: 6px 4px; border: 2px solid #5a5a5a; border-radius: 8px; cursor: pointer; }
.stars input { width: 20px; height: 20px; margin: 0; accent-color: #0a4f8f; }
.thanks { color: #0c5d2c; font-weight: 600; }
.thanks:not(:empty) { margin-bottom: 10px; }
.promise { margin-bottom: 14px; padding: 8px 12px; border-left: 5px solid #0a4f8f; background: #eef4fb; font-weight: 600; }
.gate { margin-bottom: 14px; padding: 10px 12px; border-left: 5px solid #a68a00; background: #fff4ce; color: #3d2f00; }
.gate .btn { margin-top: 8px; }
input[type=email], input[type=tel], input[type=date] { display: block; width: 100%; min-height: 44px; padding: 8px 10px; border: 2px solid #5a5a5a; border-radius: 6px; background: #fff; color: #1b1b1b; }
.check { display: flex; align-items: center; gap: 8px; font-weight: 600; }
.check input { width: 22px; height: 22px; margin: 0; accent-color: #0a4f8f; }
.help { margin-bottom: 6px; }
.received { padding: 10px 12px; border-left: 5px solid #0c5d2c; background: #eef7f0; }
.received h3 { margin-bottom: 6px; font-size: 17px; }
.received p { margin-bottom: 8px; }
.ref { font-size: 18px; font-weight: 700; }
.convs { margin: 8px 0 12px; padding: 0; list-style: none; display: flex; flex-direction: column; gap: 8px; }
.conv { display: block; width: 100%; padding: 8px 12px; border: 2px solid #5a5a5a; border-radius: 8px; background: #fff; text-align: left; cursor: pointer; }
.conv:hover { background: #eef4fb; }
.conv .svc { display: block; font-weight: 700; }
.conv .line { display: block; font-size: 14px; color: #4a4a4a; }
.conv .unread { display: inline-block; margin-left: 6px; padding: 0 7px; border-radius: 999px; background: #b3261e; color: #fff; font-size: 13px; }
.mine h3 { font-size: 17px; }
.mine h4 { margin: 14px 0 2px; font-size: 16px; }
.device-row { display: flex; flex-wrap: wrap; gap: 6px; }
.device-row .conv { flex: 1 1 12em; }
.device-row .leavebox { flex: 1 0 100%; border: 1px solid #a68a00; border-radius: 8px; }
.notify { padding: 8px 0 0 12px; border-left: 4px solid #6e8fb3; }
.notify legend { padding: 0; }
.notify .field { margin-bottom: 10px; }
.composer { display: flex; flex-wrap: wrap; align-items: flex-end; gap: 8px; padding: 10px 12px; border-top: 1px solid #c4c4c4; background: #f7f7f7; }
.composer textarea { flex: 1; min-width: 0; min-height: 48px; max-height: 140px; resize: none; }
.composer textarea:disabled { background: #ececec; color: #4a4a4a; }
.attach-row { display: flex; flex: 1 0 100%; flex-wrap: wrap; align-items: center; gap: 4px 10px; }
.attach { gap: 6px; }
.attach svg, .file svg { width: 20px; height: 20px; fill: currentColor; flex: none; }
.attach[aria-disabled="true"] { border-color: #767676; color: #4a4a4a; cursor: progress; }
.attach-status { flex: 1 1 12em; font-size: 15px; overflow-wrap: anywhere; }
.attach-status:empty { display: none; }
.attach-status.refused { color: #b00020; font-weight: 600; }
.files { display: flex; flex-direction: column; gap: 6px; margin-top: 6px; }
.file { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 8px; padding: 6px 8px; border: 1px solid #767676; border-radius: 8px; background: #fff; color: #1b1b1b; }
.file-text { flex: 1 1 8em; min-width: 0; overflow-wrap: anywhere; font-size: 15px; }
.file-name { font-weight: 700; }
.file-meta { color: #4a4a4a; }
.file-get { min-height: 40px; }
.file-get[aria-busy="true"] { cursor: progress; }
@media (max-width: 480px), (max-height: 560px) {
  .panel { top: 0; left: 0; right: 0; bottom: 0; width: 100%; max-width: none; height: 100%; max-height: none; border: 0; border-radius: 0; }
  .root.is-open .launcher { display: none; }
}
@media (prefers-reduced-motion: reduce) { *, *::before, *::after { animation: none !important; transition: none !important; } }
@media (forced-colors: active) { .launcher, .btn, .msg, .badge { border: 2px solid CanvasText; } }
`;

