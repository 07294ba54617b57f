// A professional in the console (`/console`), driven through its data-testid hooks.
import { until, squash } from './util.js';

const NAMES = {
  'nurse-1': 'Nurse One',
  'nurse-2': 'Nurse Two',
  'nurse-3': 'Nurse Three',
  'nurse-4': 'Nurse Four',
  'social-1': 'Social Worker One',
  'social-2': 'Social Worker Two',
  'lead-1': 'Shift Lead',
  'dpo-1': 'Data Protection Officer',
};

export class Professional {
  constructor(page, id) {
    this.page = page;
    this.proId = id;
  }

  id(testId) {
    return this.page.getByTestId(testId);
  }

  /** Logs in through the demo login list (`login-<id>`) and waits for `me`. */
  async login(baseUrl) {
    await this.page.goto(baseUrl + '/console');
    await this.id(`login-${this.proId}`).click();
    await until(
      async () => squash(await this.id('me').textContent()),
      (t) => t.includes(NAMES[this.proId] || this.proId),
      `${this.proId}: "me" shows the professional's name`,
    );
  }

  /** Sets capacity (typed, then Tab away as a person would) and then availability. */
  async setStatus({ capacity, availability }) {
    if (capacity !== undefined) {
      const input = this.id('capacity');
      await input.fill(String(capacity));
      await input.press('Tab');
    }
    if (availability !== undefined) {
      await this.id('availability').selectOption(availability);
      // The console shows the state the server confirmed: wait for it to settle there.
      await until(
        () => this.id('availability').inputValue(),
        (v) => v === availability,
        `${this.proId}: availability shows "${availability}"`,
      );
    }
  }

  tab(conversation) {
    return this.page.locator(`[data-testid="chat-tab"][data-conversation="${conversation}"]`);
  }

  pane(conversation) {
    return this.page.locator(`[data-testid="chat-pane"][data-conversation="${conversation}"]`);
  }

  get tabs() {
    return this.id('chat-tab');
  }

  async openConversations() {
    return this.tabs.evaluateAll((tabs) => tabs.map((t) => t.getAttribute('data-conversation')));
  }

  /** Waits until the chat with this conversation id is open (tab and pane exist). */
  async waitForChat(conversation) {
    await this.tab(conversation).waitFor({ state: 'visible' });
    await this.pane(conversation).waitFor({ state: 'attached' });
  }

  /** Selects a chat's tab and waits until its pane is the visible one. */
  async select(conversation) {
    await this.tab(conversation).click();
    await until(
      () => this.tab(conversation).getAttribute('aria-selected'),
      (v) => v === 'true',
      `${this.proId}: tab ${conversation} aria-selected`,
    );
    await this.pane(conversation).waitFor({ state: 'visible' });
  }

  composer(conversation) {
    return this.pane(conversation).getByTestId('composer');
  }

  messages(conversation) {
    return this.pane(conversation).getByTestId('messages').getByTestId('message');
  }

  async paneText(conversation) {
    return squash(await this.pane(conversation).getByTestId('messages').textContent());
  }

  /** Selects the chat, types into its composer and sends; waits for the stored message. */
  async send(conversation, text) {
    await this.select(conversation);
    await this.composer(conversation).fill(text);
    await this.pane(conversation).getByTestId('send').click();
    await this.waitForMessage(conversation, text, 'professional');
  }

  /** Writes an internal note: switches the chat's composer to note mode, types, saves it. */
  async note(conversation, text) {
    await this.select(conversation);
    await this.pane(conversation).getByTestId('mode-note').check();
    await this.composer(conversation).fill(text);
    await this.pane(conversation).getByTestId('send').click();
    await this.waitForMessage(conversation, text);
  }

  /** Waits for a message row with this text (and role, when given) in the chat's pane. */
  async waitForMessage(conversation, text, role) {
    let rows = this.messages(conversation).filter({ hasText: text });
    if (role) rows = rows.and(this.page.locator(`[data-role="${role}"]`));
    await rows.first().waitFor({ state: 'attached' });
    await until(
      async () => (await rows.first().getAttribute('data-seq')) || '',
      (s) => /^\d+$/.test(s),
      `${this.proId}: message "${text}" in ${conversation} carries its data-seq`,
    );
  }

  /** Closes the chat with a summary through the close form. */
  async close(conversation, summary) {
    await this.select(conversation);
    const pane = this.pane(conversation);
    await pane.getByTestId('close').click();
    await pane.getByTestId('close-summary').fill(summary);
    await pane.getByTestId('close-confirm').click();
  }
}
