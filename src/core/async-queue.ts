// Bridges push (callbacks) to pull (`for await`). Unbounded by design: the producer is our own
// executor, whose output is already coalesced; consumers that must bound memory do it themselves.
export class AsyncQueue<T> implements AsyncIterable<T> {
  #items: T[] = [];
  #waiters: ((r: IteratorResult<T>) => void)[] = [];
  #closed = false;
  #error: unknown = undefined;

  push(item: T): void {
    if (this.#closed) return;
    const waiter = this.#waiters.shift();
    if (waiter) waiter({ value: item, done: false });
    else this.#items.push(item);
  }

  /** Ends the stream; pending items are still delivered. With `error`, the consumer's loop throws it. */
  close(error?: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#error = error;
    for (const waiter of this.#waiters.splice(0)) {
      if (error === undefined) waiter({ value: undefined, done: true });
      else waiter(Promise.reject(error) as never);
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  async next(): Promise<IteratorResult<T>> {
    if (this.#items.length > 0) return { value: this.#items.shift() as T, done: false };
    if (this.#closed) {
      if (this.#error !== undefined) throw this.#error;
      return { value: undefined, done: true };
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => this.next(),
      return: async () => {
        this.close();
        this.#items.length = 0;
        return { value: undefined, done: true };
      },
    };
  }
}
