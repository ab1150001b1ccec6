/**
 * Live seats: every `[data-session-id][data-available-spots]` element is kept current from its
 * session's WebSocket feed (/api/v1/sessions/{id}/live, one socket per session however many
 * elements show it). Messages are applied in `version` order, so a late one never undoes a newer
 * one. When the socket drops (or cannot open), /availability is polled every POLL_MS until the
 * socket is back, retried with a growing pause. Each change updates the element's attributes,
 * text and badge, shows Book or Join the waitlist in its `[data-session-row]`, and is announced as
 * a `seats-changed` event on document (the booking form re-quotes on it).
 */
import { SEATS_BADGE, seatsLeftText, seatsLevel } from "../domain/seats-left";

const POLL_MS = 5_000;
const PING_MS = 30_000;
const RETRY_MIN_MS = 5_000;
const RETRY_MAX_MS = 60_000;
const BADGES = Object.values(SEATS_BADGE);

export interface SeatsUpdate {
  sessionId: string;
  availableSpots: number;
  status: string;
  version: number;
}

/** Applies one update to every element of its session (the caller has checked the version). */
export function applySeats(elements: HTMLElement[], update: SeatsUpdate): void {
  const level = seatsLevel(update.availableSpots, update.status);
  const full = level === "full" || level === "cancelled";
  for (const element of elements) {
    element.dataset.availableSpots = String(update.availableSpots);
    element.dataset.status = update.status;
    element.dataset.seatsLevel = level;
    element.textContent = seatsLeftText(update.availableSpots, update.status);
    if (element.classList.contains("badge")) {
      element.classList.remove(...BADGES);
      element.classList.add(SEATS_BADGE[level]);
    }
    const row = element.closest<HTMLElement>("[data-session-row]");
    if (!row) continue;
    for (const action of row.querySelectorAll<HTMLElement>("[data-show-when]")) action.hidden = action.dataset.showWhen !== (full ? "full" : "open");
    for (const input of row.querySelectorAll<HTMLInputElement>("input[data-disable-when-full]")) input.disabled = full;
  }
  document.dispatchEvent(new CustomEvent<SeatsUpdate>("seats-changed", { detail: update }));
}

/** One session's feed: the socket, or polling while the socket is down. */
class SessionFeed {
  private version = -1;
  private socket: WebSocket | null = null;
  private pollTimer: number | undefined;
  private pingTimer: number | undefined;
  private retryMs = RETRY_MIN_MS;

  constructor(
    private readonly sessionId: string,
    private readonly elements: HTMLElement[],
  ) {}

  start(): void {
    this.connect();
  }

  /** Takes a message or a polled answer if it is newer than what is shown. */
  private take(update: SeatsUpdate): void {
    if (typeof update.version !== "number" || update.version <= this.version) return;
    this.version = update.version;
    applySeats(this.elements, update);
  }

  private connect(): void {
    let socket: WebSocket;
    try {
      const scheme = location.protocol === "https:" ? "wss" : "ws";
      socket = new WebSocket(`${scheme}://${location.host}/api/v1/sessions/${encodeURIComponent(this.sessionId)}/live`);
    } catch {
      this.dropped();
      return;
    }
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.retryMs = RETRY_MIN_MS;
      this.stopPolling();
      this.pingTimer = window.setInterval(() => socket.readyState === WebSocket.OPEN && socket.send("ping"), PING_MS);
    });
    socket.addEventListener("message", (event) => {
      if (typeof event.data !== "string" || event.data === "pong") return;
      try {
        const message = JSON.parse(event.data) as Partial<SeatsUpdate> & { type?: string };
        if ((message.type === "snapshot" || message.type === "capacity") && message.sessionId === this.sessionId) this.take(message as SeatsUpdate);
      } catch {
        // Not ours to understand: ignore.
      }
    });
    socket.addEventListener("close", () => {
      if (this.socket !== socket) return;
      this.socket = null;
      window.clearInterval(this.pingTimer);
      this.dropped();
    });
  }

  /** The socket is gone: poll now and then, and try the socket again after a pause that grows. */
  private dropped(): void {
    this.startPolling();
    const wait = this.retryMs;
    this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
    window.setTimeout(() => this.connect(), wait);
  }

  private startPolling(): void {
    if (this.pollTimer !== undefined) return;
    void this.poll();
    this.pollTimer = window.setInterval(() => void this.poll(), POLL_MS);
  }

  private stopPolling(): void {
    window.clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }

  private async poll(): Promise<void> {
    try {
      const response = await fetch(`/api/v1/sessions/${encodeURIComponent(this.sessionId)}/availability`, { headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const body = (await response.json()) as SeatsUpdate;
      this.take({ sessionId: this.sessionId, availableSpots: body.availableSpots, status: body.status, version: body.version });
    } catch {
      // Offline for now: the next poll tries again.
    }
  }
}

/** The feature: one feed per session shown on the page. */
export function startLiveSeats(): void {
  const bySession = new Map<string, HTMLElement[]>();
  for (const element of document.querySelectorAll<HTMLElement>("[data-session-id][data-available-spots]")) {
    const id = element.dataset.sessionId;
    if (!id) continue;
    bySession.set(id, [...(bySession.get(id) ?? []), element]);
  }
  for (const [id, elements] of bySession) new SessionFeed(id, elements).start();
}
