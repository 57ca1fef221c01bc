// Reads a server-sent event stream from a fetch() body. EventSource cannot send an Authorization
// header, so the admin API's events are read this way. Parsing follows the HTML standard's
// "event stream interpretation" for the fields Gatehouse uses: event, data (and comments).

export interface SseMessage {
  /** The `event:` field; "message" when the server sent none. */
  event: string;
  /** Every `data:` line of the message, joined with "\n". */
  data: string;
}

/** Turns text chunks, split anywhere, into messages. */
export class SseParser {
  #buffer = '';
  #event = '';
  #data: string[] = [];
  /** A chunk ended in "\r": a "\n" starting the next chunk belongs to the same line break. */
  #skipLeadingNewline = false;

  constructor(private readonly onMessage: (message: SseMessage) => void) {}

  push(chunk: string): void {
    let text = chunk;
    if (this.#skipLeadingNewline && text.startsWith('\n')) text = text.slice(1);
    this.#skipLeadingNewline = false;
    this.#buffer += text;
    for (;;) {
      const end = this.#buffer.search(/[\r\n]/);
      if (end === -1) return;
      const line = this.#buffer.slice(0, end);
      let next = end + 1;
      if (this.#buffer[end] === '\r') {
        if (next === this.#buffer.length) this.#skipLeadingNewline = true;
        else if (this.#buffer[next] === '\n') next += 1;
      }
      this.#buffer = this.#buffer.slice(next);
      this.#line(line);
    }
  }

  #line(line: string): void {
    if (line === '') {
      this.#dispatch();
      return;
    }
    if (line.startsWith(':')) return; // a comment, e.g. a keep-alive
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.#event = value;
    else if (field === 'data') this.#data.push(value);
    // `id` and `retry` are not used: Gatehouse reloads its state after a reconnect instead.
  }

  #dispatch(): void {
    const event = this.#event || 'message';
    const data = this.#data;
    this.#event = '';
    this.#data = [];
    if (data.length > 0) this.onMessage({ event, data: data.join('\n') });
  }
}

/** Reads `body` to its end (or until `signal` aborts), handing each message to `onMessage`. */
export async function readEventStream(
  body: ReadableStream<Uint8Array>,
  onMessage: (message: SseMessage) => void,
  signal: AbortSignal,
): Promise<void> {
  const parser = new SseParser(onMessage);
  const decoder = new TextDecoder();
  const reader = body.getReader();
  const cancel = () => void reader.cancel().catch(() => {});
  signal.addEventListener('abort', cancel, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.push(decoder.decode(value, { stream: true }));
    }
    parser.push(decoder.decode());
  } finally {
    signal.removeEventListener('abort', cancel);
    reader.releaseLock();
  }
}
