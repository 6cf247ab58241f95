/**
 * Serves the browser side of livestem from the server itself: the karaoke demo page at `/` and the client SDK as one
 * ES module at `/sdk/livestem.js` (`import { separateMediaStream } from '/sdk/livestem.js'`).
 *
 * Compiled server (`npm start`, the Docker image: this module is dist/server/demo/demo-plugin.js): every file is
 * prebuilt by `npm run build` (scripts/build.ts) next to this module in dist/server/demo/static/ and only read from
 * disk, once, on first request; esbuild is not loaded at all (the production image does not carry it).
 * From source (tests and `tsx server/main.ts`: this module is a `.ts` file): the two bundles are built in-process with
 * esbuild from the TypeScript sources on first request, so what the page runs is always the SDK in this checkout, and
 * a stale dist/ can never be served by a test. A missing prebuilt file in a compiled server is an error (500 and a
 * log line), not a reason to build: a build there would need dev dependencies the image leaves out.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
const here = (path) => fileURLToPath(new URL(path, import.meta.url));
/** True when running the TypeScript source (tsx), false for the tsc output in dist/. */
const FROM_SOURCE = import.meta.url.endsWith('.ts');
export const SDK_PATH = '/sdk/livestem.js';
/** The browser bundles: URL path, TypeScript entry (relative to this module), prebuilt file in ./static/. */
export const BROWSER_BUNDLES = [
    { path: '/demo.js', entry: './static/demo.ts', file: 'demo.js' },
    { path: SDK_PATH, entry: '../../client-sdk/src/index.ts', file: 'livestem.js' },
];
/** Files copied verbatim from server/demo/static/ to the prebuilt static folder. */
export const STATIC_FILES = [
    { path: '/', file: 'index.html', contentType: 'text/html; charset=utf-8' },
    { path: '/demo.css', file: 'demo.css', contentType: 'text/css; charset=utf-8' },
];
/** esbuild options shared by the build step and the from-source fallback (which adds an inline source map). */
export const BROWSER_BUNDLE_OPTIONS = {
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    external: ['ws'],
    logLevel: 'silent',
};
/** Absolute path of a file next to this module (entries are resolved against server/demo/ in the source tree). */
export function demoModulePath(relative) {
    return here(relative);
}
const JS = 'text/javascript; charset=utf-8';
async function bundleFromSource(entry) {
    // Loaded only when running from source: esbuild is a dev dependency.
    const { build } = await import('esbuild');
    const result = await build({ ...BROWSER_BUNDLE_OPTIONS, entryPoints: [entry], write: false, sourcemap: 'inline' });
    const file = result.outputFiles[0];
    if (file === undefined)
        throw new Error(`esbuild produced no output for ${entry}`);
    return file.text;
}
function prebuilt(file) {
    return () => readFile(here(`./static/${file}`), 'utf8').catch((err) => {
        throw new Error(`prebuilt ${file} is missing next to the compiled server: run \`npm run build\``, { cause: err });
    });
}
function assets() {
    const table = {};
    for (const { path, file, contentType } of STATIC_FILES)
        table[path] = { contentType, load: () => readFile(here(`./static/${file}`), 'utf8') };
    for (const { path, entry, file } of BROWSER_BUNDLES) {
        if (FROM_SOURCE) {
            table[path] = { contentType: JS, load: () => bundleFromSource(here(entry)) };
        }
        else {
            table[path] = { contentType: JS, load: prebuilt(file) };
            // The prebuilt bundles link their source maps (`//# sourceMappingURL=<file>.map`), served alongside.
            table[`${path}.map`] = { contentType: 'application/json; charset=utf-8', load: prebuilt(`${file}.map`) };
        }
    }
    return table;
}
export function demoPlugin() {
    return (ctx) => {
        const table = assets();
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
                res.end(JSON.stringify({ error: { code: 'LIVESTEM_ERR_INTERNAL', message: `could not ${FROM_SOURCE ? 'build' : 'load'} ${path}`, retryable: true } }));
            }
        };
        return {
            handle(req, res) {
                if (req.method !== 'GET' && req.method !== 'HEAD')
                    return false;
                const path = (req.url ?? '/').split('?')[0];
                const key = path === '/index.html' ? '/' : path;
                const asset = table[key];
                if (asset === undefined)
                    return false;
                const serving = serve(key, asset, res).finally(() => inFlight.delete(serving));
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