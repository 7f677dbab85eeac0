"""The public API: what ``import modelward`` offers, sorted and documented."""

from __future__ import annotations

import importlib
import inspect

import pytest

import modelward

PACKAGES = [
    "modelward",
    "modelward.catalog",
    "modelward.sources",
    "modelward.store",
    "modelward.transfer",
    "modelward.health",
    "modelward.updates",
    "modelward.availability",
    "modelward.analytics",
    "modelward.devhub",
    "modelward.api",
    "modelward.cli",
]


def _isort_style(symbol: str) -> tuple[int, str]:
    # Constants, then classes, then functions: the order ruff's RUF022 keeps.
    if symbol.isupper():
        return 0, symbol
    return (1 if symbol[0].isupper() else 2), symbol


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_sorted_and_importable(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported, key=_isort_style)
    for symbol in exported:
        assert hasattr(module, symbol), f"{name}.{symbol}"


@pytest.mark.parametrize("name", PACKAGES)
def test_every_public_class_and_function_has_a_docstring(name: str) -> None:
    module = importlib.import_module(name)
    for symbol in module.__all__:
        obj = getattr(module, symbol)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert inspect.getdoc(obj), f"{name}.{symbol} has no docstring"


def test_seed_methods_keep_their_names_and_are_async() -> None:
    downloader = modelward.EnhancedModelDownloader
    for method in (
        "download_with_retry",
        "pause_download",
        "resume_download",
        "cancel_download",
        "get_download_progress",
    ):
        assert inspect.iscoroutinefunction(getattr(downloader, method)), method
    fields = {f for f in modelward.DownloadProgress.__dataclass_fields__}
    assert {
        "model_id",
        "status",
        "progress_percent",
        "downloaded_mb",
        "total_mb",
        "speed_mbps",
        "eta_seconds",
        "retry_count",
        "max_retries",
        "error_message",
        "can_pause",
        "can_resume",
        "can_cancel",
    } <= fields
    result_fields = set(modelward.DownloadResult.__dataclass_fields__)
    assert {
        "success",
        "model_id",
        "final_status",
        "total_time_seconds",
        "total_retries",
        "final_size_mb",
        "error_message",
        "integrity_verified",
    } <= result_fields


def test_seed_availability_interfaces_keep_their_names_and_are_async() -> None:
    from modelward import analytics, availability

    for cls, methods in {
        availability.ModelAvailabilityManager: (
            "ensure_all_models_available",
            "get_comprehensive_model_status",
            "prioritize_model_downloads",
            "handle_model_request",
            "cleanup_unused_models",
        ),
        availability.IntelligentFallbackManager: (
            "suggest_alternative_model",
            "get_fallback_strategy",
            "estimate_wait_time",
            "queue_request_for_downloading_model",
        ),
        availability.EnhancedErrorRecovery: ("handle_model_unavailable",),
        analytics.ModelUsageAnalytics: (
            "track_model_usage",
            "get_usage_statistics",
            "recommend_model_cleanup",
            "suggest_preload_models",
            "generate_usage_report",
        ),
    }.items():
        for method in methods:
            assert inspect.iscoroutinefunction(getattr(cls, method)), f"{cls.__name__}.{method}"
    first = next(iter(inspect.signature(availability.IntelligentFallbackManager).parameters))
    assert first == "availability_manager"
    assert {
        "strategy_type",
        "recommended_action",
        "alternative_model",
        "estimated_wait_time",
        "user_message",
        "can_queue_request",
    } <= set(availability.FallbackStrategy.__dataclass_fields__)
    assert {m.name for m in availability.FallbackType} >= {
        "ALTERNATIVE_MODEL",
        "QUEUE_AND_WAIT",
        "MOCK_GENERATION",
        "DOWNLOAD_AND_RETRY",
    }
    usage_fields = set(analytics.UsageStatistics.__dataclass_fields__)
    assert {
        "model_id",
        "total_uses",
        "uses_per_day",
        "average_generation_time",
        "success_rate",
        "last_30_days_usage",
        "peak_usage_hours",
    } <= usage_fields
