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


SEED_NAMES = (
    # The seed's components and the existing parts they build on (SEED-DESIGN.md).
    "ModelAvailabilityManager",
    "EnhancedModelDownloader",
    "ModelHealthMonitor",
    "IntelligentFallbackManager",
    "ModelUsageAnalytics",
    "EnhancedErrorRecovery",
    "ModelManager",
    "ModelDownloader",
    "ModelIntegrationBridge",
    "FallbackRecoverySystem",
    # Its data models, and the types their fields and methods name.
    "DetailedModelStatus",
    "ModelAvailabilityStatus",
    "DownloadProgress",
    "DownloadResult",
    "DownloadStatus",
    "FallbackStrategy",
    "FallbackType",
    "ModelSuggestion",
    "UsageStatistics",
    "DailyUsage",
    "SystemHealthReport",
    "HealthRecommendation",
    "GenerationRequirements",
    "ErrorContext",
    "RecoveryResult",
    "ModelRequestResult",
    "RetentionPolicy",
    "CleanupResult",
    "RepairResult",
    "IntegrityResult",
    "PerformanceHealth",
    "CorruptionReport",
    "GenerationMetrics",
    "EstimatedWaitTime",
    "QueueResult",
    "GenerationRequest",
    "UsageData",
    "TimePeriod",
    "StorageConstraints",
    "CleanupRecommendations",
    "UsageReport",
    "ModelUsageData",
)

# Each seed method with the parameters the seed gives it, in its order ("__init__": the
# constructor as the seed calls it; further parameters must have defaults).
SEED_METHODS: dict[str, dict[str, tuple[str, ...]]] = {
    "ModelAvailabilityManager": {
        "__init__": ("model_manager", "downloader"),
        "ensure_all_models_available": (),
        "get_comprehensive_model_status": (),
        "prioritize_model_downloads": ("usage_analytics",),
        "handle_model_request": ("model_type",),
        "cleanup_unused_models": ("retention_policy",),
    },
    "EnhancedModelDownloader": {
        "__init__": ("base_downloader",),
        "download_with_retry": ("model_id", "max_retries"),
        "verify_and_repair_model": ("model_id",),
        "pause_download": ("model_id",),
        "resume_download": ("model_id",),
        "cancel_download": ("model_id",),
        "set_bandwidth_limit": ("limit_mbps",),
        "get_download_progress": ("model_id",),
        "start_download": ("model_id",),  # used by the seed's tests
        "wait_for_completion": ("model_id",),
    },
    "ModelHealthMonitor": {
        "__init__": (),
        "check_model_integrity": ("model_id",),
        "monitor_model_performance": ("model_id", "generation_metrics"),
        "detect_corruption": ("model_id",),
        "schedule_health_checks": (),
        "get_health_report": (),
    },
    "IntelligentFallbackManager": {
        "__init__": ("availability_manager",),
        "suggest_alternative_model": ("requested_model", "requirements"),
        "get_fallback_strategy": ("failed_model", "error_context"),
        "estimate_wait_time": ("model_id",),
        "queue_request_for_downloading_model": ("model_id", "request"),
    },
    "ModelUsageAnalytics": {
        "__init__": (),
        "track_model_usage": ("model_id", "usage_data"),
        "get_usage_statistics": ("time_period",),
        "recommend_model_cleanup": ("storage_constraints",),
        "suggest_preload_models": (),
        "generate_usage_report": (),
    },
    "EnhancedErrorRecovery": {
        "__init__": ("base_recovery", "fallback_manager"),
        "handle_model_unavailable": ("model_id", "context"),
    },
    "FallbackRecoverySystem": {"attempt_recovery": ("context",)},
}


@pytest.mark.parametrize("name", SEED_NAMES)
def test_every_name_the_seed_uses_imports_from_modelward(name: str) -> None:
    assert name in modelward.__all__
    assert inspect.isclass(getattr(modelward, name))


@pytest.mark.parametrize(
    ("cls", "method"), [(c, m) for c, methods in SEED_METHODS.items() for m in methods]
)
def test_every_seed_method_has_the_seed_parameters(cls: str, method: str) -> None:
    function = getattr(getattr(modelward, cls), method)
    params = [p for p in inspect.signature(function).parameters.values() if p.name != "self"]
    seed = SEED_METHODS[cls][method]
    assert tuple(p.name for p in params[: len(seed)]) == seed
    for extra in params[len(seed) :]:
        assert extra.default is not inspect.Parameter.empty or extra.kind in (
            inspect.Parameter.VAR_POSITIONAL,
            inspect.Parameter.VAR_KEYWORD,
        ), f"{cls}.{method}: {extra.name} needs a default (the seed does not pass it)"
    if method != "__init__":
        assert inspect.iscoroutinefunction(function), f"{cls}.{method} is not async"
