/**
 * A minimal typed listener registry. Node's EventEmitter throws on an `error` event with no
 * listener and types listeners loosely; this one does neither, and a throwing listener is
 * reported to `onListenerError` instead of breaking the emitter's caller.
 */
export class TypedEvents<Events extends object> {
  private readonly listeners = new Map<keyof Events, Set<(event: never) => void>>();

  constructor(private readonly onListenerError: (error: unknown, event: keyof Events) => void = () => undefined) {}

  on<K extends keyof Events>(name: K, listener: (event: Events[K]) => void): () => void {
    let set = this.listeners.get(name);
    if (!set) {
      set = new Set();
      this.listeners.set(name, set);
    }
    set.add(listener);
    return () => this.off(name, listener);
  }

  off<K extends keyof Events>(name: K, listener: (event: Events[K]) => void): void {
    this.listeners.get(name)?.delete(listener);
  }

  /** Whether anyone listens to `name`. */
  has(name: keyof Events): boolean {
    return (this.listeners.get(name)?.size ?? 0) > 0;
  }

  emit<K extends keyof Events>(name: K, event: Events[K]): void {
    for (const listener of [...(this.listeners.get(name) ?? [])]) {
      try {
        (listener as (event: Events[K]) => void)(event);
      } catch (error) {
        this.onListenerError(error, name);
      }
    }
  }
}
