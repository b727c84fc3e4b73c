/** Injectable clock: epoch milliseconds. */
export type Clock = () => number;
export const systemClock: Clock = () => Date.now();

export const toIso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
export const toSeconds = (ms: number): number => Math.floor(ms / 1000);
