// npx tsx client-sdk/examples/separate-file.ts song.wav [ws://127.0.0.1:8080]   (server running: npm start)
import { readWav, writeWav } from '../../server/dsp/wav.ts';
import { connect, type OutputChunk } from '../src/index.ts';

const song = await readWav(process.argv[2]!);
const session = await connect({
  url: process.argv[3] ?? 'ws://127.0.0.1:8080', // or http://…; /v1/stream is added
  ...(process.env['LIVESTEM_API_KEY'] ? { token: process.env['LIVESTEM_API_KEY'] } : {}), // only when required
  sampleRate: song.sampleRateHz,
  channels: song.channels.length as 1 | 2,
  outputs: ['vocals', 'accompaniment'],
});
console.log(`latency ${session.ready.latency.ms} ms, model ${session.ready.model.name}`);

const stems: Record<string, OutputChunk[]> = { vocals: [], accompaniment: [] };
session.on('output', (chunk) => stems[chunk.kind]!.push(chunk)); // chunk.sampleOffset aligns with input time
session.on('vad', (vad) => vad.transitions.forEach((t) => console.log(`${t.active ? 'vocals' : 'silence'} at ${t.sampleOffset}`)));

const step = 4410; // any size works; `await write()` is the backpressure
for (let pos = 0; pos < song.channels[0]!.length; pos += step) {
  await session.write(song.channels.map((ch) => ch.subarray(pos, pos + step)));
}
const done = await session.end(); // resolves after the last chunk: output length == input length
console.log(`${done.outputSamples} samples per stem, ${done.lateFrames} late frames`);

for (const [kind, chunks] of Object.entries(stems)) {
  const channels = song.channels.map((_, c) => {
    const out = new Float32Array(done.outputSamples);
    for (const chunk of chunks) out.set(chunk.samples[c]!, chunk.sampleOffset);
    return out;
  });
  await writeWav(`${kind}.wav`, channels, song.sampleRateHz, 'f32');
}
