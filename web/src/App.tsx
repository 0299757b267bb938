import { useEffect, useState } from "react";
import { logout, resumeSession } from "./api";
import { CreateWizard } from "./pages/CreateWizard";
import { CurrentPage } from "./pages/CurrentPage";
import { CurrentsList } from "./pages/CurrentsList";
import { IngestKeys } from "./pages/IngestKeys";
import { Login } from "./pages/Login";
import { Sources } from "./pages/Sources";
import { Cohorts } from "./pages/Cohorts";
import { Audit } from "./pages/Audit";
import { EventDictionary } from "./pages/EventDictionary";

/** Hash routes: #/ (Data Export), #/new, #/currents/<id>, #/sources[/<id>], #/cohorts[/<id>], #/keys, #/audit, #/events[/<type>]. */
function useRoute(): string {
  const [route, setRoute] = useState(location.hash.slice(1) || "/");
  useEffect(() => {
    const on = () => setRoute(location.hash.slice(1) || "/");
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return route;
}

export function App() {
  const [role, setRole] = useState<string | undefined | null>(null);
  const route = useRoute();
  useEffect(() => { void resumeSession().then(setRole); }, []);
  if (role === null) return <main className="page"><p>Loading…</p></main>;
  if (!role) return <Login onLogin={setRole} />;
  const current = /^\/currents\/([\w-]+)$/.exec(route)?.[1];
  const source = /^\/sources(?:\/([\w-]+))?$/.exec(route);
  const cohort = /^\/cohorts(?:\/([\w-]+))?$/.exec(route);
  const dictionary = /^\/events(?:\/([\w.-]+))?$/.exec(route);
  return (
    <>
      <header className="topbar">
        <strong className="brand">Currents</strong>
        <nav aria-label="Main">
          <span className="crumb">Partner Integrations</span>
          <a href="#/" aria-current={route === "/" ? "page" : undefined}>Data Export</a>
          <a href="#/sources" aria-current={source ? "page" : undefined}>Sources</a>
          <a href="#/cohorts" aria-current={cohort ? "page" : undefined}>Cohorts</a>
          <a href="#/keys" aria-current={route === "/keys" ? "page" : undefined}>Ingest keys</a>
          <a href="#/events" aria-current={dictionary ? "page" : undefined}>Event dictionary</a>
          <a href="#/audit" aria-current={route === "/audit" ? "page" : undefined}>Audit log</a>
        </nav>
        <button type="button" className="link" onClick={() => void logout().then(() => setRole(undefined))}>Log out</button>
      </header>
      <main className="page">
        {route === "/new" ? <CreateWizard /> : source ? <Sources id={source[1]} readOnly={role === "readonly"} /> : cohort ? <Cohorts id={cohort[1]} readOnly={role === "readonly"} /> : current ? <CurrentPage id={current} readOnly={role === "readonly"} /> : route === "/keys" ? <IngestKeys /> : route === "/audit" ? <Audit /> : dictionary ? <EventDictionary type={dictionary[1]} /> : <CurrentsList />}
      </main>
    </>
  );
}
