"""Store: the Hugging Face cache layout, verified promotion and what is on disk."""

from modelward.store.layout import RepoLayout, repo_folder_name
from modelward.store.manager import FileState, LocalFile, LocalModel, ModelManager

__all__ = [
    "FileState",
    "LocalFile",
    "LocalModel",
    "ModelManager",
    "RepoLayout",
    "repo_folder_name",
]
