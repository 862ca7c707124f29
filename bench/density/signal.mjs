// Synthetic 16 kHz mono "speech" for the density benchmark: a crude formant synthesiser.
// A Rosenberg-style glottal flow derivative (pitch gliding around 110-180 Hz, a little
// jitter and breath noise) is filtered by three resonators set to vowel formants that
// change every syllable, with a ~4 Hz syllable envelope, in bursts of 1.2-2.4 s separated by 0.6-1.5 s of near silence
// (faint noise). Silero VAD hears the bursts as speech, so START/END_OF_SPEECH events fire
// as well as INFERENCE_DONE; the inference cost per window is the same either way.
// Plain JavaScript on purpose: agents-js job processes load it without a TypeScript loader.

export const SAMPLE_RATE = 16_000;

const VOWELS = [
  [730, 1090, 2440], // a
  [270, 2290, 3010], // i
  [300, 870, 2240], // u
  [530, 1840, 2480], // e
  [570, 840, 2410], // o
];

/** A small deterministic PRNG (mulberry32), so every run hears the same audio. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Two-pole resonator coefficients for a centre frequency and bandwidth (Hz). */
function resonator(freq, bandwidth) {
  const r = Math.exp((-Math.PI * bandwidth) / SAMPLE_RATE);
  const theta = (2 * Math.PI * freq) / SAMPLE_RATE;
  return { a1: 2 * r * Math.cos(theta), a2: -r * r, gain: 1 - r };
}

/**
 * Generates `seconds` of audio as 16-bit PCM. The buffer is meant to be played in a loop
 * from a per-session offset, so many sessions can share one buffer per process.
 */
export function generateSpeechLikeAudio(seconds = 12, seed = 1) {
  const rand = prng(seed);
  const out = new Int16Array(Math.round(seconds * SAMPLE_RATE));
  let i = 0;
  let talking = true;
  while (i < out.length) {
    const segment = Math.round((talking ? 1.2 + rand() * 1.2 : 0.6 + rand() * 0.9) * SAMPLE_RATE);
    const end = Math.min(out.length, i + segment);
    if (!talking) {
      for (; i < end; i++) out[i] = Math.round((rand() - 0.5) * 60);
    } else {
      const syllableLen = Math.round(SAMPLE_RATE / (3.5 + rand()));
      const state = [0, 0, 0, 0, 0, 0];
      const bandwidths = [60, 90, 150];
      const weights = [1, 0.7, 0.5];
      let phase = 0;
      let previousFlow = 0;
      let filters = VOWELS[0].map((f, k) => resonator(f, bandwidths[k]));
      const start = i;
      const f0Base = 110 + rand() * 70;
      for (; i < end; i++) {
        const t = i - start;
        if (t % syllableLen === 0) {
          const vowel = VOWELS[Math.floor(rand() * VOWELS.length)];
          filters = vowel.map((f, k) => resonator(f * (0.9 + 0.2 * rand()), bandwidths[k]));
        }
        const f0 = f0Base * (1 + 0.2 * Math.sin((2 * Math.PI * t) / (SAMPLE_RATE * 1.3))) * (1 + 0.01 * (rand() - 0.5));
        phase += f0 / SAMPLE_RATE;
        if (phase >= 1) phase -= 1;
        // Glottal flow: rises over 60 % of the period, closes over 20 %, then stays shut.
        const flow = phase < 0.6 ? 0.5 * (1 - Math.cos((Math.PI * phase) / 0.6)) : phase < 0.8 ? Math.cos((Math.PI * (phase - 0.6)) / 0.4) : 0;
        const excitation = flow - previousFlow + (rand() - 0.5) * 0.05;
        previousFlow = flow;
        let y = 0;
        for (let k = 0; k < 3; k++) {
          const { a1, a2, gain } = filters[k];
          const s1 = state[2 * k];
          const s2 = state[2 * k + 1];
          const v = gain * excitation + a1 * s1 + a2 * s2;
          state[2 * k + 1] = s1;
          state[2 * k] = v;
          y += v * weights[k];
        }
        const envelope = 0.2 + 0.8 * Math.sin((Math.PI * (t % syllableLen)) / syllableLen) ** 2;
        out[i] = Math.max(-32767, Math.min(32767, Math.round(y * envelope * 200_000)));
      }
    }
    talking = !talking;
  }
  return out;
}
