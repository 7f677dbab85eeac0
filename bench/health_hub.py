"""The integrity benchmark's local hub: ``python -m bench.health_hub --root DIR --profile full``.

Serves one synthetic repo laid out like a Wan2.2 Diffusers repo but sized for the integrity
checks: the transformer in 120 shards (so that one model has 100+ files for the quick
check), the text encoder in 5 shards, and the VAE as one file of over 2 GiB at full size
(the real TI2V-5B VAE is a single 2.8 GB file) for the block repair. The built-in Wan shapes
cannot do both: their largest file passes 2 GiB only at an 11 GB repo, with 22 files.
Prints one JSON line when ready: the URL, the commit and the repo's files.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

from modelward.devhub import DevHub, RepoShape, serve, texts
from modelward.devhub.shapes import Component

REPO_ID = "modelward-bench/Wan2.2-Integrity-Diffusers"
TRANSFORMER_SHARDS = 120
TEXT_ENCODER_SHARDS = 5


@dataclass(frozen=True)
class Profile:
    """Bytes of each weight component; the repo also holds ~21 MB of tokenizer and configs."""

    transformer_bytes: int
    text_encoder_bytes: int
    vae_bytes: int

    @property
    def weight_bytes(self) -> int:
        """Bytes of the three weight components together."""
        return self.transformer_bytes + self.text_encoder_bytes + self.vae_bytes


PROFILES = {
    # 120 transformer shards of just over 1 MiB: the devhub never plans a shard below 1 MiB,
    # so this is the smallest repo that keeps 100+ files.
    "quick": Profile(130_000_000, 40_000_000, 160_000_000),
    "full": Profile(2_400_000_000, 1_200_000_000, 2_400_000_000),
}


def integrity_shape(profile: Profile) -> RepoShape:
    """The benchmark repo's shape; its components' sizes are the profile's."""
    transformer = Component(
        "transformer",
        profile.transformer_bytes,
        TRANSFORMER_SHARDS,
        "F32",
        5120,
        "blocks.{i}.ffn.0.weight",
        "diffusion_pytorch_model",
        texts.transformer_config(48, 30, 24, 48),
    )
    text_encoder = Component(
        "text_encoder",
        profile.text_encoder_bytes,
        TEXT_ENCODER_SHARDS,
        "BF16",
        4096,
        "encoder.block.{i}.layer.1.DenseReluDense.wi_0.weight",
        "model",
        texts.text_encoder_config(),
    )
    # The devhub writes the "vae" folder as one file, whatever its size.
    vae = Component(
        "vae",
        profile.vae_bytes,
        1,
        "F32",
        512,
        "decoder.up_blocks.{i}.resnets.0.conv1.weight",
        "diffusion_pytorch_model",
        texts.vae_config(48),
    )
    return RepoShape(REPO_ID, "WanPipeline", (transformer, text_encoder, vae))


def _ready(hub: DevHub) -> None:
    manifest = hub.manifest(REPO_ID)
    files = [{"path": f.path, "size": f.size, "is_lfs": f.is_lfs} for f in manifest.files]
    print(json.dumps({"url": hub.url, "commit": manifest.commit, "files": files}), flush=True)


def main() -> None:
    """Serve until SIGTERM."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--root", type=Path, required=True)
    p.add_argument("--profile", choices=sorted(PROFILES), required=True)
    args = p.parse_args()
    profile = PROFILES[args.profile]
    # The scale is the components' own total, so the devhub scales nothing (ratio 1) and
    # the tokenizer files keep their real sizes (tokenizer.json: 16.8 MB).
    serve(
        root=args.root,
        scale=profile.weight_bytes,
        repos=[integrity_shape(profile)],
        on_ready=_ready,
    )


if __name__ == "__main__":
    main()
