import { randomUUID } from 'node:crypto';
import { APIConnectionError, type APIConnectOptions, DEFAULT_API_CONNECT_OPTIONS, llm } from '@livekit/agents';

export interface ScriptedLLMOptions {
  /** The reply to a user turn. Default: echoes the text back. */
  reply?: (userText: string) => string;
  /** Reported provider and model, for per-tenant usage. */
  provider?: string;
  model?: string;
  /** Every chat fails with an unrecoverable provider error carrying this message. */
  failWith?: string;
  /**
   * Decides per request: the chat answering this user text fails with an unrecoverable
   * provider error carrying the returned message; undefined answers normally. One object
   * shared by many calls can so fail exactly one of them.
   */
  failOn?: (userText: string) => string | undefined;
  /** Every chat waits forever (until aborted), like a provider that stopped answering. */
  hang?: boolean;
  /** Prompt tokens cached on the provider side, reported per request. Default 0. */
  cachedTokens?: number;
  /** Stands in for a provider API key; it must never leave this object. */
  apiKey?: string;
}

/**
 * An LLM that needs no network, with real usage reporting: it answers each user turn
 * through a function and reports token counts (one token per 4 characters), so
 * per-tenant usage metrics can be tested. It can also fail or hang on purpose.
 */
export class ScriptedLLM extends llm.LLM {
  readonly options: Readonly<Omit<ScriptedLLMOptions, 'apiKey'>>;
  /** Every user text this LLM was asked about, in order. */
  readonly received: string[] = [];
  readonly #apiKey: string | undefined;

  constructor(options: ScriptedLLMOptions = {}) {
    super();
    const { apiKey, ...rest } = options;
    this.options = rest;
    this.#apiKey = apiKey;
  }

  label(): string {
    return 'openrtc.ScriptedLLM';
  }

  override get provider(): string {
    return this.options.provider ?? 'scripted';
  }

  override get model(): string {
    return this.options.model ?? 'scripted-llm';
  }

  /** Whether an API key was given (the key itself is never exposed). */
  get hasApiKey(): boolean {
    return this.#apiKey !== undefined;
  }

  chat({ chatCtx, toolCtx, connOptions }: {
    chatCtx: llm.ChatContext;
    toolCtx?: llm.ToolContext;
    connOptions?: APIConnectOptions;
  }): llm.LLMStream {
    return new ScriptedLLMStream(this, {
      chatCtx,
      toolCtx,
      connOptions: { ...DEFAULT_API_CONNECT_OPTIONS, ...connOptions, maxRetry: 0 },
    });
  }
}

class ScriptedLLMStream extends llm.LLMStream {
  readonly #owner: ScriptedLLM;

  constructor(owner: ScriptedLLM, params: ConstructorParameters<typeof llm.LLMStream>[1]) {
    super(owner, params);
    this.#owner = owner;
  }

  protected async run(): Promise<void> {
    const { reply = (text: string) => text, failWith, failOn, hang, cachedTokens = 0 } = this.#owner.options;
    const items = this.chatCtx.items;
    const lastUser = [...items].reverse().find((item) => item.type === 'message' && item.role === 'user');
    const userText = lastUser?.type === 'message' ? (lastUser.textContent ?? '') : '';
    const failure = failWith ?? failOn?.(userText);
    if (failure !== undefined) {
      throw new APIConnectionError({ message: failure, options: { retryable: false } });
    }
    if (hang) {
      await new Promise<void>((resolve) => this.abortController.signal.addEventListener('abort', () => resolve()));
      return;
    }
    this.#owner.received.push(userText);
    const content = reply(userText);
    const id = randomUUID();
    this.queue.put({ id, delta: { role: 'assistant', content } });
    const promptChars = items.reduce((n, item) => n + (item.type === 'message' ? (item.textContent ?? '').length : 0), 0);
    const promptTokens = Math.ceil(promptChars / 4);
    const completionTokens = Math.ceil(content.length / 4);
    this.queue.put({
      id,
      usage: { promptTokens, completionTokens, promptCachedTokens: cachedTokens, totalTokens: promptTokens + completionTokens },
    });
    await Promise.resolve();
  }
}
