// A patient on the demo page, driving the chat widget through its data-testid hooks
// (docs: the UI contract; the widget lives in an open shadow root, which Playwright's
// CSS and test-id locators pierce).
import assert from 'node:assert/strict';
import { until, squash } from './util.js';

export const STORAGE_KEY = 'luukku.widget.v1';

export class Patient {
  constructor(page, label) {
    this.page = page;
    this.label = label;
  }

  id(testId) {
    return this.page.getByTestId(testId);
  }

  get panel() {
    return this.id('panel');
  }

  /** The widget's message rows (`message` inside `messages`). */
  get messages() {
    return this.id('messages').getByTestId('message');
  }

  async open() {
    // The widget's modules load after the page: wait until it is mounted (its launcher shows,
    // and a panel left open before a reload is open again) before looking at the panel.
    await this.id('launcher').waitFor({ state: 'visible' });
    if (await this.panel.isVisible()) return;
    await this.id('launcher').click();
    await this.panel.waitFor({ state: 'visible' });
  }

  /**
   * Opens the widget, fills the start form (the demo service health-chat is preselected by
   * the page) and starts. Resolves once the widget shows the queue or the chat.
   */
  async start({ topic = 'symptoms', duration = '1-3 days', description } = {}) {
    await this.open();
    const service = this.id('service');
    if (await service.isVisible()) {
      assert.equal(await service.inputValue(), 'health-chat', 'data-service="health-chat" preselects the service');
    }
    await this.id('topic').selectOption(topic);
    await this.id('q-duration').selectOption(duration);
    if (description !== undefined) await this.id('q-description').fill(description);
    await this.id('start').click();
    await this.conversation();
  }

  /** The conversation id the widget keeps in sessionStorage (set once the start is queued). */
  async conversation() {
    const state = await until(
      () => this.storage(),
      (s) => s && typeof s.conversation === 'string' && s.conversation.length > 0,
      `${this.label}: sessionStorage["${STORAGE_KEY}"].conversation`,
    );
    return state.conversation;
  }

  async storage() {
    return this.page.evaluate((key) => {
      const raw = sessionStorage.getItem(key);
      return raw ? JSON.parse(raw) : null;
    }, STORAGE_KEY);
  }

  async queuePosition() {
    return squash(await this.id('queue-position').textContent());
  }

  async waitForQueuePosition(n) {
    await until(
      () => this.queuePosition(),
      (p) => p === String(n),
      `${this.label}: queue-position "${n}"`,
    );
  }

  /** Waits until a professional has taken the chat: the composer is usable. */
  async waitForChat() {
    await this.id('composer').waitFor({ state: 'visible' });
    await until(
      () => this.id('composer').isEditable(),
      (v) => v === true,
      `${this.label}: composer editable`,
    );
  }

  /** Types and sends a message, then waits until the server acknowledged it. */
  async send(text) {
    await this.id('composer').fill(text);
    await this.id('send').click();
    await this.waitForOwnMessage(text);
  }

  /** Waits for an own message with this text whose data-state is sent or read. */
  async waitForOwnMessage(text) {
    const row = this.messages.filter({ hasText: text }).and(this.page.locator('[data-role="client"]'));
    await row.first().waitFor({ state: 'visible' });
    await until(
      () => row.first().getAttribute('data-state'),
      (s) => s === 'sent' || s === 'read',
      `${this.label}: own message "${text}" data-state sent|read`,
    );
  }

  /** Waits for a message from the professional with this text. */
  async waitForProfessionalMessage(text) {
    await this.messages
      .filter({ hasText: text })
      .and(this.page.locator('[data-role="professional"]'))
      .first()
      .waitFor({ state: 'visible' });
  }

  async messagesText() {
    return squash(await this.id('messages').textContent());
  }

  /** [{seq, role, text}] of the message rows, in DOM order. */
  async messageRows() {
    return this.messages.evaluateAll((rows) =>
      rows.map((r) => ({
        seq: Number(r.getAttribute('data-seq')),
        role: r.getAttribute('data-role'),
        text: r.textContent.replace(/\s+/g, ' ').trim(),
      })),
    );
  }
}

/** The data-testid of the focused element, looking through open shadow roots. */
export async function focusedTestId(page) {
  return page.evaluate(() => {
    let el = document.activeElement;
    while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
    if (!el || el === document.body) return 'BODY';
    return el.getAttribute('data-testid') || `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}`;
  });
}

/** Details of the focused element (through open shadow roots), for keyboard tests. */
export async function focusedElement(page) {
  return page.evaluate(() => {
    let el = document.activeElement;
    while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
    if (!el) return null;
    return {
      testId: el.getAttribute('data-testid'),
      tag: el.tagName.toLowerCase(),
      type: el.getAttribute('type'),
      checked: el.checked === true,
      pressed: el.getAttribute('aria-pressed'),
      value: 'value' in el ? el.value : null,
    };
  });
}

/**
 * Presses Tab until the focused element's data-testid matches (a string or a RegExp);
 * returns the trail of focused elements for error messages.
 */
export async function tabTo(page, want, maxPresses = 40) {
  const matches = (id) => (typeof want === 'string' ? id === want : want.test(id));
  const trail = [];
  for (let i = 0; i <= maxPresses; i++) {
    const id = await focusedTestId(page);
    trail.push(id);
    if (matches(id)) return id;
    if (i < maxPresses) await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${want} in ${maxPresses} presses; focus went: ${trail.join(' → ')}`);
}
