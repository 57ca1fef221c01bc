// Runs changes one at a time. Every change to settings or to the proxy's state reads the current
// settings, decides, persists and applies; two interleaved changes could both pass a conflict check
// that only one of them should pass, so they queue here instead.
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task, task);
    // The queue continues after a failure; the caller still sees the rejection through `result`.
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
