// The @huggingface/hub npm package (a real implementation of the Hub cache, pinned in tests/js) on either
// side of r1serve's cache:
//   download JS_DIR HUB_URL CACHE REPO COMMIT FILE...  fetch files with downloadFileToCacheDir
//   scan JS_DIR CACHE                                  print scanCacheDir's view of CACHE as JSON
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [mode, jsDir, ...rest] = process.argv.slice(2);
const hub = await import(pathToFileURL(join(jsDir, 'node_modules/@huggingface/hub/dist/index.mjs')).href);

if (mode === 'download') {
  const [hubUrl, cacheDir, repo, revision, ...paths] = rest;
  for (const path of paths) {
    const pointer = await hub.downloadFileToCacheDir({ repo, path, revision, hubUrl, cacheDir });
    console.log(pointer);
  }
} else if (mode === 'scan') {
  const info = await hub.scanCacheDir(rest[0]);
  console.log(JSON.stringify({
    warnings: info.warnings.map((w) => String(w)),
    repos: info.repos.map((r) => ({
      id: r.id.name, type: r.id.type, filesCount: r.filesCount, size: r.size,
      revisions: r.revisions.map((v) => ({
        commit: v.commitOid, refs: [...v.refs].sort(), files: v.files.map((f) => f.path.split('/snapshots/')[1]).sort(),
        blobSizes: v.files.map((f) => f.blob.size),
      })),
    })),
  }));
} else {
  throw new Error(`unknown mode ${mode}`);
}
