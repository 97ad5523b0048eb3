#!/usr/bin/env python3
"""Writes a synthetic byte-level BPE tokenizer (tokenizer.json + tokenizer_config.json) whose vocabulary has
exactly --vocab entries, so a --load-format dummy model of a distill's shape can be served and every id it
samples decodes to text. The 256 byte tokens come first; every further token is the merge of two earlier ones
(a valid merges list, in order); the last id is <|endoftext|>. Not a real tokenizer: for serving benchmarks of
random weights only (no model hub is reachable here, so the distills' own tokenizer.json cannot be fetched).

  python3 bench/serving/make_bytelevel_tokenizer.py --vocab 151936 --out /tmp/tok
"""
import argparse
import json
import os


def bytes_to_unicode():
    # GPT-2's printable stand-ins for the 256 byte values (what byte-level BPE vocabularies are written in).
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vocab", type=int, required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    byte_tokens = [bytes_to_unicode()[b] for b in range(256)]
    vocab = {t: i for i, t in enumerate(byte_tokens)}
    tokens = list(byte_tokens)
    merges = []
    k = 0
    while len(tokens) < args.vocab - 1:
        # Deterministic pairs, short tokens preferred, so the merged pieces look like a real vocabulary's.
        a = tokens[(k * 7919) % len(tokens)] if k % 3 else byte_tokens[(k * 31) % 256]
        b = byte_tokens[(k * 131 + 17) % 256]
        k += 1
        t = a + b
        if t in vocab or len(t) > 12:
            continue
        vocab[t] = len(tokens)
        tokens.append(t)
        merges.append(f"{a} {b}")
    eos = "<|endoftext|>"
    vocab[eos] = len(tokens)
    tj = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [{"id": vocab[eos], "content": eos, "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True}],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": True},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": merges},
    }
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tj, f, ensure_ascii=False)
    with open(os.path.join(args.out, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump({"add_bos_token": False, "eos_token": eos, "bos_token": None, "model_max_length": 131072}, f)
    print(f"{args.out}: {len(vocab)} tokens, {len(merges)} merges")


if __name__ == "__main__":
    main()
