import { useEffect, useId, useMemo, useState, type FormEvent } from "react";
import { api } from "../../api/endpoints";
import { ApiError, toApiError } from "../../api/errors";
import type { Advice, InputKind, JobRequirements, ModelPublic, NotOffered, Quality, Speed, Strategy, Suggestion } from "../../api/types";
import { ErrorAlert } from "../../components/ErrorAlert";
import { Loading } from "../../components/Status";
import { formatDuration, formatPercent } from "../../format";
import { useResource } from "../../hooks/useResource";
import { label } from "../../labels";

const INPUTS: Record<string, { label: string; value: InputKind[] }> = {
  text: { label: "Text", value: ["text"] },
  image: { label: "Image", value: ["image"] },
  both: { label: "Text and image", value: ["text", "image"] },
};
const QUALITIES: Quality[] = ["high", "medium", "low"];
const SPEEDS: Speed[] = ["medium", "fast", "slow"];

/** "What can I use for this job?": the whole advice for a model (GET /models/{id}/advice). */
export function FallbackForm({ models: given }: { models?: ModelPublic[] }) {
  const id = useId();
  const catalog = useResource(() => (given ? Promise.resolve({ data: given, count: given.length }) : api.models()), [given]);
  const models = useMemo(() => catalog.data?.data ?? [], [catalog.data]);
  const [modelId, setModelId] = useState("");
  const [inputs, setInputs] = useState("text");
  const [quality, setQuality] = useState<Quality>("high");
  const [speed, setSpeed] = useState<Speed>("medium");
  const [vram, setVram] = useState("");
  const [resolution, setResolution] = useState("");
  const [busy, setBusy] = useState(false);
  const [invalid, setInvalid] = useState<ApiError | null>(null);
  const [answer, setAnswer] = useState<Advice | null>(null);
  const [failed, setFailed] = useState<ApiError | null>(null);

  useEffect(() => {
    if (!modelId && models.length) setModelId(models[0].id);
  }, [models, modelId]);

  const resolutions = useMemo(
    () => [...new Set(models.flatMap((m) => m.capabilities?.resolutions ?? []))].sort(),
    [models],
  );

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const vramGb = vram.trim() === "" ? null : Number(vram);
    const res = resolution.trim() || null;
    if ((vramGb !== null && (!Number.isFinite(vramGb) || vramGb <= 0)) || (res !== null && !/^\d{2,5}x\d{2,5}$/.test(res))) {
      setInvalid(
        new ApiError(0, {
          code: "invalid-input",
          message: "GPU memory must be a positive number and the resolution WIDTHxHEIGHT.",
          hint: "For example 24 (GB) and 1280x704; leave either empty if it does not matter.",
          retryable: false,
        }),
      );
      return;
    }
    if (!modelId) return;
    setInvalid(null);
    const req: JobRequirements = { inputs: INPUTS[inputs].value, quality, speed, vram_gb: vramGb, resolution: res };
    setBusy(true);
    setAnswer(null);
    setFailed(null);
    try {
      setAnswer(await api.advice(modelId, req));
    } catch (error) {
      setFailed(toApiError(error));
    }
    setBusy(false);
  };

  return (
    <section className="panel" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>What can I use for this job?</h2>
      <ErrorAlert error={catalog.error} />
      <form aria-label="What can I use for this job?" className="fallback-form" onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor={`${id}-model`}>Model</label>
          <select id={`${id}-model`} value={modelId} onChange={(e) => setModelId(e.target.value)}>
            {models.length === 0 ? <option value="">No models</option> : null}
            {models.map((m) => (
              <option key={m.id} value={m.id}>
                {m.display_name ? `${m.id} · ${m.display_name}` : m.id}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-inputs`}>Inputs</label>
          <select id={`${id}-inputs`} value={inputs} onChange={(e) => setInputs(e.target.value)}>
            {Object.entries(INPUTS).map(([key, option]) => (
              <option key={key} value={key}>
                {option.label}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-quality`}>Quality</label>
          <select id={`${id}-quality`} value={quality} onChange={(e) => setQuality(e.target.value as Quality)}>
            {QUALITIES.map((q) => (
              <option key={q} value={q}>
                {label("quality", q)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-speed`}>Speed</label>
          <select id={`${id}-speed`} value={speed} onChange={(e) => setSpeed(e.target.value as Speed)}>
            {SPEEDS.map((s) => (
              <option key={s} value={s}>
                {label("speed", s)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-vram`}>GPU memory (GB)</label>
          <input
            id={`${id}-vram`}
            type="number"
            min={1}
            step="any"
            inputMode="decimal"
            placeholder="any"
            value={vram}
            onChange={(e) => setVram(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-resolution`}>Resolution</label>
          <input
            id={`${id}-resolution`}
            type="text"
            list={`${id}-resolutions`}
            placeholder="any, e.g. 1280x704"
            value={resolution}
            onChange={(e) => setResolution(e.target.value)}
            spellCheck={false}
          />
          <datalist id={`${id}-resolutions`}>
            {resolutions.map((r) => (
              <option key={r} value={r} />
            ))}
          </datalist>
        </div>
        <div className="actions">
          <button type="submit" className="primary" disabled={busy || !modelId}>
            Ask
          </button>
        </div>
      </form>
      <ErrorAlert error={invalid} />
      {busy ? <Loading what="the answer" /> : null}
      <ErrorAlert error={failed} />
      {answer && !busy ? <AdviceView advice={answer} /> : null}
    </section>
  );
}

function AdviceView({ advice }: { advice: Advice }) {
  const { requested, strategy, alternatives } = advice;
  // The API lists models with unknown capabilities last; keep that order whatever it sends.
  const notOffered = [...advice.not_offered].sort((a, b) => Number(!a.capabilities_known) - Number(!b.capabilities_known));
  return (
    <section aria-label="Advice for this job" className="fallback-answer">
      <h3>Requested model</h3>
      <p data-testid="requested">
        <strong>{requested.model_id}</strong> ({label("availability", requested.availability_status).toLowerCase()}):{" "}
        <span data-testid="requested-fit">{label("fit", requested.fits === null ? "unknown" : requested.fits ? "yes" : "no")}</span> —{" "}
        {requested.reason}
      </p>
      <StrategyView strategy={strategy} />
      <h3>Alternatives</h3>
      {alternatives.length ? (
        <ol className="fallback-answer__list" aria-label="Alternatives">
          {alternatives.map((alternative) => (
            <li key={alternative.suggested_model}>
              <AlternativeView alternative={alternative} />
            </li>
          ))}
        </ol>
      ) : (
        <p className="muted" data-testid="no-alternative">
          No other model takes this job.
        </p>
      )}
      {notOffered.length ? (
        <>
          <h3>Left out</h3>
          <ul className="fallback-answer__list" aria-label="Left out">
            {notOffered.map((entry) => (
              <NotOfferedItem key={entry.model_id} entry={entry} />
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}

function StrategyView({ strategy }: { strategy: Strategy }) {
  return (
    <>
      <p className="fallback-answer__type">
        What to do now:{" "}
        <strong data-testid="strategy-type" data-strategy={strategy.strategy_type}>
          {label("strategyType", strategy.strategy_type)}
        </strong>
      </p>
      <p className="fallback-answer__message">{strategy.user_message}</p>
      <dl className="facts">
        <dt>Recommended action</dt>
        <dd>{strategy.recommended_action}</dd>
        <dt>Estimated wait</dt>
        <dd>
          {formatDuration(strategy.wait?.seconds ?? strategy.estimated_wait_time)}
        </dd>
        <dt>Can queue the job</dt>
        <dd>{strategy.can_queue_request ? "yes" : "no"}</dd>
      </dl>
      {strategy.changes.length ? (
        <>
          <h4>Changes to the job</h4>
          <ul>
            {strategy.changes.map((c, i) => (
              <li key={i}>{c}</li>
            ))}
          </ul>
        </>
      ) : null}
      {strategy.steps.length ? (
        <>
          <h4>Steps</h4>
          <ol>
            {strategy.steps.map((step, i) => (
              <li key={i}>
                {step.text}
                {step.action ? <span className="muted"> ({label("action", step.action)})</span> : null}
              </li>
            ))}
          </ol>
        </>
      ) : null}
    </>
  );
}

function AlternativeView({ alternative }: { alternative: Suggestion }) {
  const speed = alternative.performance_difference;
  return (
    <dl className="facts" data-testid={`alternative-${alternative.suggested_model}`}>
      <dt>Model</dt>
      <dd>
        {alternative.suggested_model} ({label("availability", alternative.availability_status).toLowerCase()})
      </dd>
      <dt>Compatibility</dt>
      <dd data-testid="compatibility">{formatPercent(alternative.compatibility_score)}</dd>
      <dt>Quality difference</dt>
      <dd>{label("qualityDifference", alternative.estimated_quality_difference)}</dd>
      <dt>Speed difference</dt>
      <dd>
        {speed > 0.005 ? "faster" : speed < -0.005 ? "slower" : "about the same"} ({speed > 0 ? "+" : ""}
        {formatPercent(speed)})
      </dd>
      <dt>Why</dt>
      <dd>{alternative.reason}</dd>
      {alternative.needs.length ? (
        <>
          <dt>Needs</dt>
          <dd>{alternative.needs.join("; ")}</dd>
        </>
      ) : null}
    </dl>
  );
}

function NotOfferedItem({ entry }: { entry: NotOffered }) {
  return (
    <li data-testid={`left-out-${entry.model_id}`}>
      <strong>{entry.model_id}</strong>
      {entry.capabilities_known ? null : (
        <>
          {" "}
          <span className="badge">{label("fit", "unknown")}</span>
        </>
      )}
      : {entry.reason}
    </li>
  );
}
