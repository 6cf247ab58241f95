/**
 * Loads models from a directory of `<name>/{manifest.json, model.onnx}` through parseManifest (the train → serve
 * contract) and keeps one ModelRuntime per model. The composition root owns the registry; sessions look models up
 * by name.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseManifest } from "./model-manifest.js";
import { ModelRuntime } from "./model-runtime.js";
export class ModelLoadError extends Error {
    name = 'ModelLoadError';
}
export async function readManifest(modelDir) {
    const path = join(modelDir, 'manifest.json');
    let raw;
    try {
        raw = JSON.parse(await readFile(path, 'utf8'));
    }
    catch (err) {
        throw new ModelLoadError(`cannot read ${path}: ${err.message}`, { cause: err });
    }
    try {
        return parseManifest(raw);
    }
    catch (err) {
        throw new ModelLoadError(`invalid manifest ${path}: ${err.message}`, { cause: err });
    }
}
export async function loadModelDir(modelDir, options) {
    const manifest = await readManifest(modelDir);
    const runtime = await ModelRuntime.load(modelDir, manifest, options);
    return { name: manifest.name, dir: modelDir, manifest, runtime };
}
export class ModelRegistry {
    models = new Map();
    defaultModel;
    constructor(models, defaultModel) {
        for (const m of models)
            this.models.set(m.name, m);
        this.defaultModel = defaultModel;
    }
    /**
     * Loads every sub-directory of `modelsDir` that has a manifest.json. A model that fails to load fails the whole
     * load (a server that silently serves fewer models than deployed is worse than one that does not start).
     */
    static async load(modelsDir, defaultModel, options) {
        let entries;
        try {
            entries = (await readdir(modelsDir)).sort();
        }
        catch (err) {
            throw new ModelLoadError(`cannot list models directory ${modelsDir}: ${err.message}`, { cause: err });
        }
        const loaded = [];
        for (const entry of entries) {
            const dir = join(modelsDir, entry);
            const hasManifest = await stat(join(dir, 'manifest.json')).then((s) => s.isFile(), () => false);
            if (!hasManifest)
                continue;
            const model = await loadModelDir(dir, options);
            if (loaded.some((m) => m.name === model.name))
                throw new ModelLoadError(`two models named ${model.name} in ${modelsDir}`);
            loaded.push(model);
        }
        if (!loaded.some((m) => m.name === defaultModel)) {
            await Promise.all(loaded.map((m) => m.runtime.close()));
            const names = loaded.map((m) => m.name).join(', ') || 'none';
            throw new ModelLoadError(`default model "${defaultModel}" not found in ${modelsDir} (found: ${names})`);
        }
        return new ModelRegistry(loaded, defaultModel);
    }
    get(name) {
        return this.models.get(name);
    }
    list() {
        return [...this.models.values()];
    }
    async close() {
        await Promise.all(this.list().map((m) => m.runtime.close()));
    }
}
//# sourceMappingURL=model-registry.js.map