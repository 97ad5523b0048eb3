#pragma once
// Ollama's model store, read in place: $OLLAMA_MODELS (default ~/.ollama/models) holds
// manifests/<registry>/<namespace>/<name>/<tag> (JSON: layers of {mediaType, digest, size}) and
// blobs/sha256-<hex>. A model's weights are the layer of media type application/vnd.ollama.image.model — a
// GGUF file, which r1serve loads directly.
#include <filesystem>
#include <string>

namespace r1::store {

// $OLLAMA_MODELS, else $HOME/.ollama/models.
std::filesystem::path ollama_models_dir();

// The model blob of NAME[:TAG] (tag default "latest"; NAME may be NAMESPACE/NAME, default namespace
// "library", registry registry.ollama.ai), after checking its size and sha256 digest against the manifest.
// Throws r1::Error naming the manifest or blob and the problem.
std::filesystem::path resolve_ollama_model(const std::string& name_tag);

}  // namespace r1::store
