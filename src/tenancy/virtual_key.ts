/**
 * voicegateway's virtual keys: `vk_` and 32 base32 characters. The collector binds each to
 * one tenant and stamps that tenant on every row sent with it, so a key is as sensitive as
 * a provider key: it is checked by shape here and never echoed, logged or exported.
 */
const VIRTUAL_KEY = /^vk_[A-Za-z2-7]{32}$/;

export const VIRTUAL_KEY_RULE = 'must be a voicegateway virtual key ("vk_" and 32 base32 characters)';

export function isVirtualKey(value: unknown): value is string {
  return typeof value === 'string' && VIRTUAL_KEY.test(value);
}
