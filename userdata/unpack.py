"""Unpack EC2 user data the way cloud-init reads it: base64 -> (gzip) -> #cloud-config -> write_files.

The inverse of render.py: the renderer checks its own output with it, and the preview, the
benchmarks and the tests read instances' user data with it.
"""

from __future__ import annotations

import base64
import gzip
from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class WrittenFile:
    path: str
    content: bytes
    permissions: str  # as cloud-init would apply it, e.g. "0755"


@dataclass(frozen=True)
class UnpackedUserData:
    payload: bytes  # what EC2 stores (the decoded user_data_base64); its size is what the limit counts
    cloud_config: str
    files: dict[str, WrittenFile]

    def write_tree(self, root: Path) -> None:
        """Lay the write_files out under `root` (absolute paths become relative to it)."""
        for written in self.files.values():
            target = root / written.path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(written.content)
            target.chmod(int(written.permissions, 8))


def _decode(content: str, encoding: str) -> bytes:
    # cloud-init's write_files encodings: b64/base64, gz/gzip, gz+b64/gzip+base64, text/plain.
    encoding = encoding.lower()
    data = content.encode()
    if encoding in ("b64", "base64", "gz+b64", "gzip+base64", "gz+base64", "gzip+b64"):
        data = base64.b64decode(data)
    if encoding.startswith("gz"):
        data = gzip.decompress(data)
    return data


def written_files(cloud_config: str) -> dict[str, WrittenFile]:
    """The write_files of a #cloud-config document, decoded."""
    if not cloud_config.startswith("#cloud-config"):
        raise ValueError("user data is not a #cloud-config document")
    # libyaml's parser (PyYAML's wheels carry it): the same YAML 1.1 safe types, ~10x faster than the pure one
    document = yaml.load(cloud_config, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    return {
        entry["path"]: WrittenFile(
            path=entry["path"],
            content=_decode(entry.get("content", ""), entry.get("encoding", "text/plain")),
            permissions=str(entry.get("permissions", "0644")),
        )
        for entry in document.get("write_files", [])
    }


def unpack_user_data(user_data_base64: str) -> UnpackedUserData:
    payload = base64.b64decode(user_data_base64, validate=True)
    text = gzip.decompress(payload) if payload[:2] == b"\x1f\x8b" else payload
    cloud_config = text.decode("utf-8")
    return UnpackedUserData(payload=payload, cloud_config=cloud_config, files=written_files(cloud_config))
