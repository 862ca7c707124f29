// Runs before `npm test`: installs dependencies when node_modules is missing or older than
// the lockfile, so a fresh clone needs nothing but `npm test`.
import { execSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';

const stampPath = 'node_modules/.openrtc-install-stamp';
const lockHash = createHash('sha256').update(readFileSync('package-lock.json')).digest('hex');
const installed = existsSync(stampPath) ? readFileSync(stampPath, 'utf8') : '';

if (installed !== lockHash) {
  console.log('openrtc: installing dependencies (npm ci)...');
  execSync('npm ci --no-audit --no-fund', {
    stdio: 'inherit',
    // onnxruntime-node (via @livekit/agents) would download CUDA binaries otherwise.
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
  });
  writeFileSync(stampPath, lockHash);
}

// Before the tests (not the demo): the Debian tools the tests run (Prometheus,
// Alertmanager, docker-compose, tmux).
if (process.argv.includes('--test-tools')) execSync('bash scripts/ensure-tools.sh', { stdio: 'inherit' });
