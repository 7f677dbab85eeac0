import type { DownloadProgress, ModelPublic, ModelStatus, Settings, Storage } from "../api/types";

export function model(id: string, extra: Partial<ModelPublic> = {}): ModelPublic {
  return {
    id,
    repo: `Org/${id}`,
    revision: "main",
    display_name: null,
    capabilities: { inputs: ["text"], required_inputs: ["text"], outputs: ["video"], resolutions: ["1280x704"], frame_rate_fps: 24 },
    quality_tier: "high",
    relative_speed: 1,
    vram_min_gb: 24,
    vram_recommended_gb: 48,
    expected_size_bytes: 10_000_000_000,
    ...extra,
  };
}

export function status(id: string, extra: Partial<ModelStatus> = {}): ModelStatus {
  return {
    model_id: id,
    is_available: false,
    is_loaded: false,
    size_mb: 10_000,
    availability_status: "missing",
    download_progress: null,
    missing_files: [],
    damaged_files: [],
    integrity_score: null,
    last_health_check: null,
    performance_score: 1,
    corruption_detected: false,
    usage_frequency: 0,
    last_used: null,
    average_generation_time: null,
    can_pause_download: false,
    can_resume_download: false,
    estimated_download_time: null,
    current_version: "",
    latest_version: "",
    update_available: false,
    usable_for: ["text-to-video"],
    repo_id: `Org/${id}`,
    revision: "main",
    local_path: null,
    size_bytes: 10_000_000_000,
    present_bytes: 0,
    downloaded_bytes: 0,
    verified_bytes: 0,
    error_code: null,
    error_message: null,
    error_hint: null,
    ...extra,
  };
}

export function progress(id: string, extra: Partial<DownloadProgress> = {}): DownloadProgress {
  return {
    model_id: id,
    status: "downloading",
    progress_percent: 10,
    downloaded_mb: 1000,
    total_mb: 10000,
    speed_mbps: 10,
    eta_seconds: 900,
    retry_count: 0,
    max_retries: 5,
    error_message: null,
    error_code: null,
    can_pause: true,
    can_resume: false,
    can_cancel: true,
    downloaded_bytes: 1_000_000_000,
    total_bytes: 10_000_000_000,
    speed_bytes_per_s: 10_000_000,
    files: {},
    ...extra,
  };
}

export function storage(extra: Partial<Storage> = {}): Storage {
  const empty = { dry_run: true, removed: [], kept: [], freed_bytes: 0, free_bytes_before: 0, free_bytes_after: 0, message: "" };
  return {
    path: "/cache",
    total_bytes: 1_000_000_000_000,
    free_bytes: 500_000_000_000,
    used_bytes: 500_000_000_000,
    used_percent: 50,
    low_space_bytes: 50_000_000_000,
    low: false,
    models: [],
    unused: [],
    suggestions: empty,
    message: "Plenty of space.",
    ...extra,
  };
}

export function settings(extra: Partial<Settings> = {}): Settings {
  return {
    automation: "ask",
    health_check_interval_s: 86400,
    health_check_level: "scrub",
    health_check_at_start: true,
    update_policy: "notify",
    update_check_interval_s: 21600,
    low_space_bytes: 50_000_000_000,
    unused_after_days: 30,
    keep_previous_successes: 3,
    rollback_after_failures: 2,
    vram_gb: null,
    features: {
      retries: true,
      segmented_transfer: true,
      scheduled_health_checks: true,
      automatic_repair: true,
      alternative_suggestions: true,
      request_queueing: true,
      mock_fallback: true,
      usage_analytics: true,
      update_checks: true,
      cleanup_suggestions: true,
    },
    read_only: { cache_dir: "/cache", home: "/home/mw", endpoint: "http://127.0.0.1:8330", version: "0.9.0" },
    ...extra,
  };
}
