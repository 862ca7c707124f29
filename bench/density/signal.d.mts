// Types for signal.mjs.
export declare const SAMPLE_RATE: 16000;
export declare function generateSpeechLikeAudio(seconds?: number, seed?: number): Int16Array;
