// The one DOM builder of the widget and the console.
//   h('button', { type: 'button', class: 'btn', testid: 'send', text: 'Send', onclick }, ...kids)
// `testid` sets data-testid, `text` the text content, `value` the value property, `on…` adds a
// listener; null / false values and kids are skipped, `true` sets an empty attribute.

export function h(tag, props, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'testid') el.dataset.testid = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'value') el.value = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const kid of kids.flat()) if (kid != null && kid !== false) el.append(kid);
  return el;
}
