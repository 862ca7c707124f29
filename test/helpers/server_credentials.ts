// The key pair every test's stand-in LiveKit server is started with.
export const API_KEY = 'devkey';
export const API_SECRET = 'devsecret-devsecret-devsecret-0123';

/** Job metadata naming a tenant, as a dispatch layer would set it. */
export const tenantMetadata = (tenant: string): string => JSON.stringify({ tenant });
