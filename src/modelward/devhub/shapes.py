"""What the synthetic repos contain: the Wan2.2 Diffusers layouts, sized to a byte budget.

A ``RepoShape`` names the weight components and their real sizes; ``plan_files`` turns it
into ``FileSpec``s for a total byte budget, keeping the real proportions (transformers
dominate, the text encoder next, the VAE small) and never planning a shard under 1 MiB
unless the whole component is smaller.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from modelward.devhub import texts
from modelward.devhub.safetensors import TensorSpec, data_size, encode_header, plan_layer_tensors

MIN_SHARD_BYTES = 1 << 20
_GB = 10**9


@dataclass(frozen=True)
class Component:
    """One weights folder: its name, real size, nominal shard count and tensor naming."""

    folder: str
    real_bytes: int
    shards: int
    dtype: str
    width: int
    weight_name: str  # format string with {i}, e.g. "blocks.{i}.ffn.0.weight"
    file_stem: str  # "diffusion_pytorch_model" or "model"
    config: dict[str, object]


@dataclass(frozen=True)
class RepoShape:
    """A synthetic repo's layout: id, pipeline class and weight components."""

    repo_id: str
    pipeline_class: str
    components: tuple[Component, ...]
    extra_index: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class FileSpec:
    """One file to materialise: literal ``content``, or ``header`` + synthetic data bytes."""

    path: str
    content: bytes | None = None
    header: bytes = b""
    data_bytes: int = 0
    key: str = ""

    @property
    def size(self) -> int:
        """Size of the file in bytes."""
        if self.content is not None:
            return len(self.content)
        return len(self.header) + self.data_bytes


def _transformer(
    folder: str, real_gb: float, shards: int, in_ch: int, layers: int, heads: int, out_ch: int
) -> Component:
    config = texts.transformer_config(in_ch, layers, heads, out_ch)
    return Component(
        folder,
        int(real_gb * _GB),
        shards,
        "F32",
        5120,
        "blocks.{i}.ffn.0.weight",
        "diffusion_pytorch_model",
        config,
    )


def _text_encoder() -> Component:
    return Component(
        "text_encoder",
        int(11.4 * _GB),
        5,
        "BF16",
        4096,
        "encoder.block.{i}.layer.1.DenseReluDense.wi_0.weight",
        "model",
        texts.text_encoder_config(),
    )


def _vae(real_gb: float, z_dim: int) -> Component:
    return Component(
        "vae",
        int(real_gb * _GB),
        1,
        "F32",
        512,
        "decoder.up_blocks.{i}.resnets.0.conv1.weight",
        "diffusion_pytorch_model",
        texts.vae_config(z_dim),
    )


T2V_A14B = RepoShape(
    "Wan-AI/Wan2.2-T2V-A14B-Diffusers",
    "WanPipeline",
    (
        _transformer("transformer", 57.2, 12, 16, 40, 40, 16),
        _transformer("transformer_2", 57.2, 12, 16, 40, 40, 16),
        _text_encoder(),
        _vae(0.508, 16),
    ),
    {"boundary_ratio": 0.875},
)
I2V_A14B = RepoShape(
    "Wan-AI/Wan2.2-I2V-A14B-Diffusers",
    "WanImageToVideoPipeline",
    (
        _transformer("transformer", 57.2, 12, 36, 40, 40, 16),
        _transformer("transformer_2", 57.2, 12, 36, 40, 40, 16),
        _text_encoder(),
        _vae(0.508, 16),
    ),
    {"boundary_ratio": 0.9, "image_encoder": [None, None], "image_processor": [None, None]},
)
TI2V_5B = RepoShape(
    "Wan-AI/Wan2.2-TI2V-5B-Diffusers",
    "WanPipeline",
    (_transformer("transformer", 20.0, 3, 48, 30, 24, 48), _text_encoder(), _vae(2.82, 48)),
    {"expand_timesteps": True},
)
WAN_REPOS: tuple[RepoShape, ...] = (T2V_A14B, I2V_A14B, TI2V_5B)

_TOKENIZER_REAL = {"tokenizer/spiece.model": 4_548_313, "tokenizer/tokenizer.json": 16_837_417}


def _json(value: object) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True) + "\n").encode()


def _shard_name(comp: Component, k: int, n: int) -> str:
    if comp.folder == "vae":
        return f"{comp.folder}/{comp.file_stem}.safetensors"
    return f"{comp.folder}/{comp.file_stem}-{k:05d}-of-{n:05d}.safetensors"


def _component_files(comp: Component, budget: int, key_prefix: str) -> list[FileSpec]:
    """Config, shards and (when sharded) the index of one component."""
    count = 1 if comp.folder == "vae" else min(comp.shards, max(1, budget // MIN_SHARD_BYTES))
    files = [FileSpec(f"{comp.folder}/config.json", _json(comp.config))]
    weight_map: dict[str, str] = {}
    total = 0
    per_shard = max(budget // count, 4096)
    layers_per_shard = max(1, min(24, per_shard // (64 * 1024)))
    for k in range(1, count + 1):
        name = _shard_name(comp, k, count)
        first = (k - 1) * layers_per_shard
        names = [comp.weight_name.format(i=i) for i in range(first, first + layers_per_shard)]
        tensors: list[TensorSpec] = plan_layer_tensors(names, per_shard, comp.dtype, comp.width)
        header = encode_header(tensors)
        files.append(
            FileSpec(name, header=header, data_bytes=data_size(tensors), key=key_prefix + name)
        )
        weight_map.update({t.name: name.rsplit("/", 1)[1] for t in tensors})
        total += data_size(tensors)
    if comp.folder != "vae":
        index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
        path = f"{comp.folder}/{comp.file_stem}.safetensors.index.json"
        files.append(FileSpec(path, _json(index)))
    return files


def plan_files(shape: RepoShape, total_bytes: int, seed: int, revision: int = 0) -> list[FileSpec]:
    """Every file of ``shape`` at ``total_bytes``; ``revision`` > 0 is a later commit on main."""
    real_total = sum(c.real_bytes for c in shape.components)
    ratio = total_bytes / real_total
    files = [
        FileSpec(".gitattributes", texts.GITATTRIBUTES.encode()),
        FileSpec("README.md", texts.readme(shape.repo_id).encode()),
        FileSpec("model_index.json", _json(_model_index(shape))),
        FileSpec("scheduler/scheduler_config.json", _json(texts.scheduler_config())),
        FileSpec("tokenizer/special_tokens_map.json", _json(texts.special_tokens_map())),
        FileSpec("tokenizer/tokenizer_config.json", _json(texts.tokenizer_config())),
    ]
    spiece = min(_TOKENIZER_REAL["tokenizer/spiece.model"], max(16_384, int(4.5e6 * ratio)))
    files.append(FileSpec("tokenizer/spiece.model", data_bytes=spiece, key="spiece"))
    tok_bytes = min(_TOKENIZER_REAL["tokenizer/tokenizer.json"], max(8_192, int(16.8e6 * ratio)))
    files.append(FileSpec("tokenizer/tokenizer.json", texts.tokenizer_json(tok_bytes, seed)))
    for comp in shape.components:
        tag = f"@r{revision}" if revision and comp.folder == "transformer" else ""
        # The real Wan repos share one text encoder; the synthetic ones do too.
        prefix = "" if comp.folder == "text_encoder" else shape.repo_id + "/"
        comp_files = _component_files(comp, int(comp.real_bytes * ratio), prefix)
        if tag:
            # A new commit changes the config and the first shard; the rest stay identical.
            comp_files[0] = FileSpec(
                comp_files[0].path, _json({**comp.config, "_devhub_revision": revision})
            )
            first = comp_files[1]
            comp_files[1] = FileSpec(
                first.path, header=first.header, data_bytes=first.data_bytes, key=first.key + tag
            )
        files.extend(comp_files)
    return sorted(files, key=lambda f: f.path)


def _model_index(shape: RepoShape) -> dict[str, object]:
    folders = (comp.folder for comp in shape.components)
    return texts.model_index(shape.pipeline_class, folders, shape.extra_index)
