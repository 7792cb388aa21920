"""The S3 entry of settings.STORAGES, built from plain values (no Django import, so settings.py
and the storage tests build it the same way)."""

from __future__ import annotations

from typing import Any


def s3_private_storage(
    *,
    bucket: str,
    endpoint_url: str = "",
    region: str = "",
    access_key: str = "",
    secret_key: str = "",
    addressing_style: str = "",
    presigned_seconds: int = 60,
) -> dict[str, Any]:
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            # Empty: AWS itself; else MinIO, Ceph, a cloud's S3-compatible endpoint...
            "endpoint_url": endpoint_url or None,
            "region_name": region or None,
            # Empty: boto3's own chain (instance role, AWS_* variables, ~/.aws).
            "access_key": access_key or None,
            "secret_key": secret_key or None,
            # "path" for endpoints without per-bucket host names (most self-hosted servers).
            "addressing_style": addressing_style or None,
            # Patient records: no public ACL, encrypted at rest by the server (SSE-S3), reached
            # only with the app's credentials or a presigned link that expires.
            "default_acl": "private",
            "object_parameters": {"ServerSideEncryption": "AES256"},
            "querystring_auth": True,
            "querystring_expire": presigned_seconds,
            # A name is written again only with the same content (a re-run): replace it.
            "file_overwrite": True,
        },
    }
