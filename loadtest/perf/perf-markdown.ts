/** docs/performance.md from measured data (pure). Every figure in it comes from PerfData; none is typed in. */
import type { ModelPerf, PerfData } from './perf-model.ts';

const fx = (v: number | null | undefined, digits = 1): string => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));

/** Bytes per second each way for one stream of 16-bit PCM: input mixture, and `kinds` output streams back. */
export function streamBandwidth(sampleRateHz: number, channels: number, kinds: number): { inMbps: number; outMbps: number } {
  const bitsPerSecond = sampleRateHz * channels * 16;
  return { inMbps: bitsPerSecond / 1e6, outMbps: (bitsPerSecond * kinds) / 1e6 };
}

function modelRow(m: ModelPerf): string {
  const e = m.engine;
  const c = m.capacity;
  return [
    `| ${m.name}`,
    `${m.arch}, ${(m.parameters / 1000).toFixed(0)}k params, ${m.nFft}/${m.hopSamples} @ ${m.sampleRateHz / 1000} kHz`,
    fx(m.algorithmicLatencyMs),
    e ? `${fx(e.unbatchedUsPerHop, 0)} (${e.sessions} sessions)` : '–',
    e ? `${fx(e.batchedUsPerHop, 0)} (mean batch ${fx(e.batchSize, 0)})` : '–',
    c ? `${c.saturated ? '' : '≥ '}${c.streams} (SLO ${fx(c.sloP99Ms)} ms)` : '–',
    m.offline ? `${fx(m.offline.rtf, 3)} (${fx(m.offline.computeSeconds, 2)} s for ${m.offline.audioSeconds} s)` : '–',
    '', // GPU: see the note under the table
  ].join(' | ') + '|';
}

function scalingSection(data: PerfData): string[] {
  const best = data.models.find((m) => m.capacity !== null);
  const lines = [
    '## Scaling past one machine',
    '',
    'Sessions are independent: a session\'s model state, buffers and resume window live in the process that admitted it, and',
    'nothing is shared between sessions except the batched model call. Capacity therefore scales horizontally: N',
    'identical pods behind a load balancer that keeps each WebSocket on its pod (connection affinity is inherent to a',
    'WebSocket; a `resume` after a dropped connection must reach the same pod, hence `sessionAffinity: ClientIP` in',
    '`deploy/k8s/service.yaml`, or cookie/ header affinity on an L7 balancer). The manifests in `deploy/k8s/`:',
    '',
    '- **Deployment**: one engine process per pod, `requests.cpu: 2` and no CPU limit (CFS throttling shows up directly as late',
    '  frames), readiness on `/readyz` (503 while loading, at capacity, and while draining), `LIVESTEM_MAX_SESSIONS` as the',
    '  admission bound so a full pod refuses new sessions (`LIVESTEM_ERR_OVERLOADED`, close 1013) rather than degrading the',
    '  ones it has; rolling updates with `maxUnavailable: 0`.',
    '- **Graceful drain**: `preStop` sleeps 5 s so endpoints stop routing to the pod, then SIGTERM makes the server send',
    '  `draining` to every session, refuse new ones, and finish or flush them within `LIVESTEM_DRAIN_TIMEOUT_MS` (30 s);',
    '  `terminationGracePeriodSeconds: 45` covers both.',
    '- **HPA** on the per-pod gauge `livestem_sessions_active` (prometheus-adapter rule in',
    '  `prometheus-adapter-rules.yaml`), target ≈ 70 % of the per-pod capacity; fast scale-up, slow scale-down (sessions are',
    '  long; a removed pod drains first).',
    '- **PodDisruptionBudget** `maxUnavailable: 1`: node maintenance drains one pod at a time.',
    '- **GPU**: `kubectl apply -k deploy/k8s-gpu` runs the root Dockerfile\'s `gpu` image with the CUDA execution provider',
    '  on GPU nodes; measure its per-pod capacity with the same ramp before setting its admission bound.',
    '',
  ];
  if (best?.capacity) {
    const shared = best.capacity.maxLoadAverage1m !== null && best.capacity.maxLoadAverage1m > data.machine.cores;
    const engineRow = best.engine?.rows.filter((r) => r.batched).sort((x, y) => y.realTimeStreamsPerCore - x.realTimeStreamsPerCore)[0];
    if (shared) {
      lines.push(
        `**Caveat:** the ramp ran while other work kept the ${data.machine.cores} cores busy (1-minute load average up to ${fx(best.capacity.maxLoadAverage1m, 1)}), so ${best.capacity.streams} streams is what *this shared machine* held, not what a dedicated node holds.` +
          (engineRow
            ? ` The engine itself needs ${fx(engineRow.usPerSessionHop)} µs per session-hop batched (${Math.floor(engineRow.realTimeStreamsPerCore)} real-time streams per core), so a dedicated ${data.machine.cores}-core node is bounded by about ${Math.floor(engineRow.realTimeStreamsPerCore * data.machine.cores)} streams before socket I/O and scheduling headroom — an upper bound from the bench, not a measurement; re-run the ramp on an idle node to size a fleet.`
            : ''),
        '',
      );
    }
    const perPod = best.capacity.streams;
    const target = Math.floor(perPod * 0.7);
    const bw = streamBandwidth(best.sampleRateHz, 2, 2);
    const fleet = (n: number): number => Math.ceil(n / Math.max(1, target));
    lines.push(
      `**What the numbers imply** (model \`${best.name}\`, measured ${perPod} streams per ${data.machine.cores}-core machine under the SLO):`,
      '',
      `- Set \`LIVESTEM_MAX_SESSIONS\` to ${perPod} and the HPA target to ${target} sessions per pod (${perPod - target} streams of headroom per pod while a new pod starts).`,
      `- Pods for a given peak of concurrent streams = ceil(peak / ${target}): 100 → ${fleet(100)}, 1 000 → ${fleet(1000)}, 10 000 → ${fleet(10000)} pods (plus the HPA minimum of 2 for availability).`,
      `- Network per stream (44.1 kHz stereo s16): ${fx(bw.inMbps, 2)} Mbit/s in, ${fx(bw.outMbps, 2)} Mbit/s out (vocals + accompaniment); a full pod moves ${fx((bw.inMbps + bw.outMbps) * perPod, 0)} Mbit/s — the NIC is not the limit, the CPU is.`,
      '- Latency does not improve with more pods (it is set per pod by the model and the load on that pod); more pods keep',
      '  each one below the load at which p99 leaves the SLO.',
      '',
    );
  } else {
    lines.push('No capacity figure was measured in this run, so no fleet sizing is derived here.', '');
  }
  return lines;
}

export function renderPerformanceMarkdown(data: PerfData): string {
  const lines = [
    '# Performance',
    '',
    `Generated by \`npm run perf:report\` on ${data.date}. Machine: ${data.machine.cpu}, ${data.machine.cores} cores, Node ${data.machine.node}`,
    `(1-minute load average when the report ran: ${fx(data.machine.loadAverage1m, 2)}; above ${data.machine.cores} means other work shared the cores and every figure is pessimistic).`,
    `Song: ${data.song}.`,
    '',
    '| model | config | algorithmic latency (ms) | engine µs / session-hop, unbatched | engine µs / session-hop, batched | max real-time streams over WebSocket | offline RTF, 1 core | GPU |',
    '|---|---|---:|---:|---:|---:|---:|---|',
    ...data.models.map(modelRow),
    '',
    `GPU column: ${data.gpu.note}`,
    '',
    '- **Algorithmic latency**: `nFft − hop` model-rate samples (STFT analysis window minus one hop) at the model rate; a',
    '  client at another rate adds the resampling filters\' delay (announced in `ready.latency`).',
    '- **Engine cost per session-hop**: time the engine spends per stream per hop (STFT, model step, mask, ISTFT), measured',
    '  with one stream per model call and with many streams batched into one call.',
    '- **Max real-time streams**: the largest number of concurrent WebSocket sessions, each streaming the song in real time,',
    '  for which p99 end-to-end latency per output hop (receive time − send time of the aligned input sample; nothing',
    '  subtracted) stays ≤ algorithmic latency + 20 ms with zero gaps, found by `npm run loadtest -- --ramp`. The load',
    '  generator ran on the same machine as the server, so it competes for the same cores.',
    '- **Offline RTF**: compute time ÷ audio time for separating a 60 s song through `server/engine/offline-separator.ts`',
    '  on one core (below 1 = faster than real time).',
    '',
  ];
  for (const m of data.models) {
    const notes = [m.engineNote, m.capacityNote, m.offlineNote].filter((n): n is string => n !== undefined);
    if (m.capacity) {
      notes.unshift(
        `capacity from \`${m.capacity.command}\` (${m.capacity.date}, ${m.capacity.durationS} s per step; p99 at capacity ${fx(m.capacity.p99AtCapacityMs)} ms; 1-minute load average up to ${fx(m.capacity.maxLoadAverage1m, 1)}; report \`${m.capacity.reportPath}\`)`,
      );
    }
    if (m.engine) notes.push(`engine cost scope: ${m.engine.scope}`);
    if (notes.length > 0) lines.push(`**${m.name}**: ${notes.join('; ')}.`, '');
    if (m.capacity && m.capacity.steps.length > 0) {
      lines.push(
        `Ramp for ${m.name} (per step; server-added = e2e without framing, algorithmic latency and transport, as the load tester measures it — its own event loop on the same cores included; the server's own p99 is its \`livestem_hop_server_added_seconds\` histogram over the step, arrival of the input to the socket write; CPU is milliseconds of CPU time per session-second over the step, every thread of each process — the cores divided by the two together bound the streams this box can carry at any latency):`,
        '',
        '| streams | e2e p50 / p99 (ms) | server-added p50 / p99 / max (ms) | server\'s own server-added p99 (ms) | CPU ms per session-second: server / generator | missed deadlines | verdict |',
        '|---:|---:|---:|---:|---:|---:|---|',
        ...m.capacity.steps.map(
          (s) =>
            `| ${s.streams} | ${fx(s.e2eP50Ms)} / ${fx(s.e2eP99Ms)} | ${fx(s.serverAddedP50Ms)} / ${fx(s.serverAddedP99Ms)} / ${fx(s.serverAddedMaxMs)} | ${fx(s.serverSideP99Ms)} | ${fx(s.serverCpuMsPerSessionSecond, 1)} / ${fx(s.generatorCpuMsPerSessionSecond, 1)} | ${s.missedDeadlines === null ? '—' : `${s.missedDeadlines} of ${s.hops}`} | ${s.passed ? 'pass' : 'fail'} |`,
        ),
        '',
      );
    }
    if (m.engine) {
      lines.push(
        `Engine bench for ${m.name} (1-minute load average ${fx(m.engine.loadAverage1m, 1)} at the end):`,
        '',
        '| sessions | batching | µs / session-hop | of which model | mean batch | real-time streams / core |',
        '|---:|---|---:|---:|---:|---:|',
        ...m.engine.rows.map(
          (r) =>
            `| ${r.sessions} | ${r.batched ? 'yes' : 'no'} | ${fx(r.usPerSessionHop)} | ${fx(r.modelUsPerSessionHop)} | ${fx(r.meanBatchSize, 1)} | ${Math.floor(r.realTimeStreamsPerCore)} |`,
        ),
        '',
      );
    }
  }
  lines.push('Commands that produced these figures:', '', '```', ...data.commands, '```', '');
  lines.push(...scalingSection(data));
  return lines.join('\n');
}
