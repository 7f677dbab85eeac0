import { FallbackForm } from "./FallbackForm";
import { RequestsList } from "./RequestsList";

export function RequestsView() {
  return (
    <section aria-labelledby="requests-title">
      <h1 id="requests-title">Requests</h1>
      <RequestsList />
      <FallbackForm />
    </section>
  );
}
