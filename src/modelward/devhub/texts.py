"""The small text files of a Wan2.2 Diffusers repo: configs, model card, tokenizer JSON."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Mapping

_DIFFUSERS_VERSION = "0.35.0.dev0"

GITATTRIBUTES = "".join(
    f"{pattern} filter=lfs diff=lfs merge=lfs -text\n"
    for pattern in (
        "*.7z",
        "*.arrow",
        "*.bin",
        "*.bz2",
        "*.ckpt",
        "*.ftz",
        "*.gz",
        "*.h5",
        "*.joblib",
        "*.model",
        "*.msgpack",
        "*.npy",
        "*.npz",
        "*.onnx",
        "*.ot",
        "*.parquet",
        "*.pb",
        "*.pickle",
        "*.pkl",
        "*.pt",
        "*.pth",
        "*.rar",
        "*.safetensors",
        "*.tar",
        "*.tflite",
        "*.tgz",
        "*.wasm",
        "*.xz",
        "*.zip",
        "*.zst",
        "*tfevents*",
        "tokenizer.json",
    )
)


def readme(repo_id: str) -> str:
    """A short model card with the Hub's YAML front matter."""
    name = repo_id.split("/", 1)[1]
    return (
        "---\nlicense: apache-2.0\nlibrary_name: diffusers\npipeline_tag: text-to-video\n---\n"
        f"# {name} (synthetic)\n\n"
        "Served by modelward's local hub. The weights are deterministic pseudo-random bytes\n"
        "in valid safetensors files shaped like the real repository; they generate nothing.\n"
    )


def model_index(
    pipeline_class: str, folders: Iterable[str], extra: Mapping[str, object]
) -> dict[str, object]:
    """The pipeline's ``model_index.json`` for weights in ``folders``."""
    index: dict[str, object] = {
        "_class_name": pipeline_class,
        "_diffusers_version": _DIFFUSERS_VERSION,
        "scheduler": ["diffusers", "UniPCMultistepScheduler"],
        "text_encoder": ["transformers", "UMT5EncoderModel"],
        "tokenizer": ["transformers", "T5TokenizerFast"],
        "vae": ["diffusers", "AutoencoderKLWan"],
    }
    for folder in folders:
        if folder.startswith("transformer"):
            index[folder] = ["diffusers", "WanTransformer3DModel"]
    index.update(extra)
    return index


def transformer_config(in_ch: int, layers: int, heads: int, out_ch: int) -> dict[str, object]:
    """A ``WanTransformer3DModel`` config."""
    return {
        "_class_name": "WanTransformer3DModel",
        "_diffusers_version": _DIFFUSERS_VERSION,
        "attention_head_dim": 128,
        "cross_attn_norm": True,
        "eps": 1e-06,
        "ffn_dim": 13824 if heads == 40 else 14336,
        "freq_dim": 256,
        "in_channels": in_ch,
        "num_attention_heads": heads,
        "num_layers": layers,
        "out_channels": out_ch,
        "patch_size": [1, 2, 2],
        "qk_norm": "rms_norm_across_heads",
        "rope_max_seq_len": 1024,
        "text_dim": 4096,
    }


def text_encoder_config() -> dict[str, object]:
    """A ``UMT5EncoderModel`` config."""
    return {
        "architectures": ["UMT5EncoderModel"],
        "d_ff": 10240,
        "d_kv": 64,
        "d_model": 4096,
        "model_type": "umt5",
        "num_heads": 64,
        "num_layers": 24,
        "torch_dtype": "bfloat16",
        "vocab_size": 256384,
    }


def vae_config(z_dim: int) -> dict[str, object]:
    """An ``AutoencoderKLWan`` config."""
    return {
        "_class_name": "AutoencoderKLWan",
        "_diffusers_version": _DIFFUSERS_VERSION,
        "base_dim": 96 if z_dim == 16 else 160,
        "dim_mult": [1, 2, 4, 4],
        "num_res_blocks": 2,
        "temperal_downsample": [False, True, True],
        "z_dim": z_dim,
    }


def scheduler_config() -> dict[str, object]:
    """A ``UniPCMultistepScheduler`` config."""
    return {
        "_class_name": "UniPCMultistepScheduler",
        "_diffusers_version": _DIFFUSERS_VERSION,
        "flow_shift": 3.0,
        "num_train_timesteps": 1000,
        "prediction_type": "flow_prediction",
        "use_flow_sigmas": True,
    }


def special_tokens_map() -> dict[str, object]:
    """The tokenizer's special tokens."""
    return {"eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>"}


def tokenizer_config() -> dict[str, object]:
    """The tokenizer's config."""
    return {"model_max_length": 512, "tokenizer_class": "T5Tokenizer", **special_tokens_map()}


def tokenizer_json(target_bytes: int, seed: int) -> bytes:
    """A valid Unigram ``tokenizer.json`` of about ``target_bytes``, deterministic in ``seed``."""
    rng = random.Random(seed)
    alphabet = "abcdefghijklmnopqrstuvwxyz"
    head: dict[str, object] = {
        "version": "1.0",
        "added_tokens": [],
        "normalizer": None,
        "model": {"type": "Unigram", "unk_id": 2, "vocab": []},
    }
    base = len(json.dumps(head))
    vocab: list[list[object]] = []
    size = base
    while size < target_bytes - 40:
        piece = "\u2581" + "".join(rng.choices(alphabet, k=rng.randint(1, 9)))
        score = round(-rng.uniform(1.0, 20.0), 6)
        vocab.append([piece, score])
        size += len(piece.encode()) + len(str(score)) + 8
    head["model"] = {"type": "Unigram", "unk_id": 2, "vocab": vocab}
    return json.dumps(head, ensure_ascii=False, separators=(",", ":")).encode()
