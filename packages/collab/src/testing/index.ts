/** Test helpers other workspaces' tests may share (`@tandem/collab/testing`). */
export { SeededRandom, testSeed } from './SeededRandom.ts';
export { Reader, Writer } from './WireCodec.ts';
