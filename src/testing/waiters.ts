interface Waiter {
  check: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Conditions a test waits on, re-checked after every event the server sees. Each wait has
 * its own deadline and names what it waited for, so a hung test says what never happened.
 */
export class Waiters {
  private readonly pending = new Set<Waiter>();

  add<T>(check: () => T | undefined | false | null, what: string, timeoutMs: number): Promise<T> {
    const now = check();
    if (now) return Promise.resolve(now);
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        check,
        resolve: resolve as (value: unknown) => void,
        reject,
        timer: setTimeout(() => {
          this.pending.delete(waiter);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
        }, timeoutMs),
      };
      waiter.timer.unref();
      this.pending.add(waiter);
    });
  }

  check(): void {
    for (const waiter of [...this.pending]) {
      const value = waiter.check();
      if (!value) continue;
      clearTimeout(waiter.timer);
      this.pending.delete(waiter);
      waiter.resolve(value);
    }
  }

  cancelAll(reason: string): void {
    for (const waiter of this.pending) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error(reason));
    }
    this.pending.clear();
  }
}
