import { InferenceRunner, type ipc } from '@livekit/agents';

/**
 * agents-js runs inference (the end-of-turn model) in a separate process and hands jobs
 * an executor that talks to it. In shared mode every session lives in this process, so
 * the runners live here too: each is loaded once, on first use, and shared by all
 * sessions of every tenant.
 */
export class InProcessInferenceExecutor implements ipc.InferenceExecutor {
  private readonly runners = new Map<string, Promise<InferenceRunner>>();

  async doInference(method: string, data: unknown): Promise<unknown> {
    const runner = await this.runner(method);
    return runner.run(data);
  }

  async close(): Promise<void> {
    const pending = [...this.runners.values()];
    this.runners.clear();
    for (const runner of pending) {
      await runner.then((r) => r.close()).catch(() => undefined);
    }
  }

  private runner(method: string): Promise<InferenceRunner> {
    let pending = this.runners.get(method);
    if (!pending) {
      pending = this.load(method);
      this.runners.set(method, pending);
      // A failed load is retried by the next call instead of failing every session forever.
      pending.catch(() => this.runners.delete(method));
    }
    return pending;
  }

  private async load(method: string): Promise<InferenceRunner> {
    const importPath = InferenceRunner.registeredRunners[method];
    if (!importPath) throw new Error(`no inference runner is registered for "${method}"`);
    const mod = (await import(importPath)) as { default?: unknown };
    const Runner = (typeof mod.default === 'function' ? mod.default : (mod.default as { default?: unknown } | undefined)?.default) as
      | (new () => InferenceRunner)
      | undefined;
    if (typeof Runner !== 'function') throw new Error(`inference runner module for "${method}" has no default export class`);
    const runner = new Runner();
    await runner.initialize();
    return runner;
  }
}
