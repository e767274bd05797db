/**
 * Delivers the double's webhooks to the app as GitHub does: a JSON POST signed with the
 * app's webhook secret (`x-hub-signature-256: sha256=<HMAC-SHA256 of the body>`), with
 * `x-github-event`, `x-github-delivery` and `x-github-hook-installation-target-id`. Each
 * delivery is kept (with the app's status code) so a test can count or redeliver it.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { examplePayload } from './example-payload.js';
import type { Actor, GitHubState } from './github-state.js';

export interface Delivery {
  id: string;
  event: string;
  action: string | null;
  body: string;
  /** The app's answer; 0 when it could not be reached; null while in flight. */
  status: number | null;
  /** When it was sent and when the app's answer came (ms since the epoch): the app's time on it. */
  sentAt: number;
  answeredAt: number | null;
}

/** The events the app subscribes to (app.yml `default_events`). */
const SUBSCRIBED = new Set([
  'issues',
  'issue_comment',
  'pull_request',
  'pull_request_review',
  'pull_request_review_comment',
  'check_suite',
  'check_run',
  'workflow_run',
  'installation',
]);

export class WebhookSender {
  url: string | null = null;
  /**
   * Further apps each delivery also goes to, at the same moment and with the same delivery
   * id (replicas of one app that all get it: a redelivery routed to another replica, at
   * worst at once). Their answers are not kept; `settled()` waits for them too.
   */
  alsoTo: string[] = [];
  /** Delivery stops while false (an app that is not listening yet); what was sent while paused is dropped, as GitHub would fail it. */
  enabled = true;
  readonly deliveries: Delivery[] = [];
  readonly #pending = new Set<Promise<void>>();

  constructor(
    private readonly state: GitHubState,
    private readonly secret: string,
    private readonly installationId: number,
    private readonly appId: number,
  ) {}

  get inFlight(): number {
    return this.#pending.size;
  }

  /** Waits for every delivery sent so far (and any they caused before this resolves). */
  async settled(): Promise<void> {
    while (this.#pending.size) await Promise.allSettled([...this.#pending]);
  }

  /** Sends `event.action` with `fields` over GitHub's example payload of that event. */
  send(event: string, action: string | null, fields: Record<string, unknown>, sender: Actor): Delivery | null {
    if (!SUBSCRIBED.has(event) || !this.enabled || this.url === null) return null;
    const payload = examplePayload(event, action, this.state.hosts);
    if (action !== null) payload.action = action;
    Object.assign(payload, fields);
    payload.repository = this.state.renderRepository();
    payload.sender = this.state.renderUser(sender);
    payload.installation = { id: this.installationId, node_id: `MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u${this.installationId}` };
    delete payload.organization;
    const delivery: Delivery = {
      id: randomUUID(),
      event,
      action,
      body: JSON.stringify(payload),
      status: null,
      sentAt: Date.now(),
      answeredAt: null,
    };
    this.deliveries.push(delivery);
    this.#post(delivery);
    return delivery;
  }

  /** GitHub's "Redeliver" button: the same body and delivery id again. */
  redeliver(id: string): Delivery {
    const original = this.deliveries.find((d) => d.id === id);
    if (!original) throw new Error(`no delivery ${id}`);
    const again: Delivery = { ...original, status: null, sentAt: Date.now(), answeredAt: null };
    this.deliveries.push(again);
    this.#post(again);
    return again;
  }

  sign(body: string): string {
    return `sha256=${createHmac('sha256', this.secret).update(body).digest('hex')}`;
  }

  #post(delivery: Delivery): void {
    this.#postTo(this.url!, delivery, true);
    for (const url of this.alsoTo) this.#postTo(url, delivery, false);
  }

  #postTo(url: string, delivery: Delivery, keep: boolean): void {
    const p = fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'GitHub-Hookshot/double',
        'x-github-event': delivery.event,
        'x-github-delivery': delivery.id,
        'x-github-hook-id': '1',
        'x-github-hook-installation-target-type': 'integration',
        'x-github-hook-installation-target-id': String(this.appId),
        'x-hub-signature-256': this.sign(delivery.body),
      },
      body: delivery.body,
    })
      .then(async (res) => {
        await res.arrayBuffer();
        if (!keep) return;
        delivery.status = res.status;
        delivery.answeredAt = Date.now();
      })
      .catch(() => {
        if (!keep) return;
        delivery.status = 0;
        delivery.answeredAt = Date.now();
      })
      .finally(() => this.#pending.delete(p));
    this.#pending.add(p);
  }
}
