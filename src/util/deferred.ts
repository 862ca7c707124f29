/**
 * A promise settled from outside. Rejections are marked handled at creation, so a handle
 * that nobody awaits (a test that ignores `assigned`) never becomes an unhandled rejection,
 * while anyone who does await it still sees the error.
 */
export class Deferred<T> {
  readonly promise: Promise<T>;
  private settledFlag = false;
  private resolveFn!: (value: T) => void;
  private rejectFn!: (error: unknown) => void;

  constructor() {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolveFn = resolve;
      this.rejectFn = reject;
    });
    this.promise.catch(() => undefined);
  }

  get settled(): boolean {
    return this.settledFlag;
  }

  resolve(value: T): void {
    if (this.settledFlag) return;
    this.settledFlag = true;
    this.resolveFn(value);
  }

  reject(error: unknown): void {
    if (this.settledFlag) return;
    this.settledFlag = true;
    this.rejectFn(error);
  }
}
