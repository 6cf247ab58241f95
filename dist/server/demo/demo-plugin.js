/**
 * Serves the browser side of livestem from the server itself: the karaoke demo page at `/` and the client SDK as one
 * ES module at `/sdk/livestem.js` (`import { separateMediaStream } from '/sdk/livestem.js'`). Both bundles are built
 * with esbuild from the TypeScript sources on first request and kept in memory, so what the page runs is always the
 * SDK in this checkout.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
const here = (path) => fileURLToPath(new URL(path, import.meta.url));
export const SDK_PATH = '/sdk/livestem.js';
async function bundle(entry) {
    const result = await build({
        entryPoints: [entry],
        bundle: true,
        format: 'esm',
        platform: 'browser',
        target: 'es2022',
        external: ['ws'],
        write: false,
        sourcemap: 'inline',
        logLevel: 'silent',
    });
    const file = result.outputFiles[0];
    if (file === undefined)
        throw new Error(`esbuild produced no output for ${entry}`);
    return file.text;
}
const ASSETS = {
    '/': { contentType: 'text/html; charset=utf-8', load: () => readFile(here('./static/index.html'), 'utf8') },
    '/demo.css': { contentType: 'text/css; charset=utf-8', load: () => readFile(here('./static/demo.css'), 'utf8') },
    '/demo.js': { contentType: 'text/javascript; charset=utf-8', load: () => bundle(here('./static/demo.ts')) },
    [SDK_PATH]: { contentType: 'text/javascript; charset=utf-8', load: () => bundle(here('../../client-sdk/src/index.ts')) },
};
export function demoPlugin() {
    return (ctx) => {
        const cache = new Map();
        const inFlight = new Set();
        const serve = async (path, asset, res) => {
            let body = cache.get(path);
            if (body === undefined) {
                body = asset.load();
                cache.set(path, body);
            }
            try {
                const text = await body;
                res.writeHead(200, { 'content-type': asset.contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-cache' });
                res.end(text);
            }
            catch (err) {
                cache.delete(path);
                ctx.log.error('static asset failed', { path, err });
                res.writeHead(500, { 'content-type': 'application/json' });
                res.end(JSON.stringify({ error: { code: 'LIVESTEM_ERR_INTERNAL', message: `could not build ${path}`, retryable: true } }));
            }
        };
        return {
            handle(req, res) {
                if (req.method !== 'GET' && req.method !== 'HEAD')
                    return false;
                const path = (req.url ?? '/').split('?')[0];
                const asset = ASSETS[path === '/index.html' ? '/' : path];
                if (asset === undefined)
                    return false;
                const serving = serve(path, asset, res).finally(() => inFlight.delete(serving));
                inFlight.add(serving);
                return true;
            },
            async close() {
                await Promise.allSettled([...inFlight]);
            },
        };
    };
}
//# sourceMappingURL=demo-plugin.js.map