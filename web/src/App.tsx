import { FindEvent } from "./pages/FindEvent";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { LanguageSwitch } from "./pages/LanguageSwitch";
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

/** Hash routes: #/ (Data Export), #/new, #/currents/<id>, #/sources[/<id>], #/cohorts[/<id>], #/keys, #/audit, #/find, #/events[/<type>]. */
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
  const { t, i18n } = useTranslation();
  useEffect(() => { document.documentElement.lang = i18n.resolvedLanguage ?? "en"; }, [i18n.resolvedLanguage]);
  useEffect(() => { void resumeSession().then(setRole); }, []);
  if (role === null) return <main className="page"><p>{t("common.loading")}</p></main>;
  if (!role) return <Login onLogin={setRole} />;
  const current = /^\/currents\/([\w-]+)$/.exec(route)?.[1];
  const source = /^\/sources(?:\/([\w-]+))?$/.exec(route);
  const cohort = /^\/cohorts(?:\/([\w-]+))?$/.exec(route);
  const dictionary = /^\/events(?:\/([\w.-]+))?$/.exec(route);
  return (
    <>
      <header className="topbar">
        <strong className="brand">Currents</strong>
        <nav aria-label={t("nav.main")}>
          <span className="crumb">{t("nav.partnerIntegrations")}</span>
          <a href="#/" aria-current={route === "/" ? "page" : undefined}>{t("nav.dataExport")}</a>
          <a href="#/sources" aria-current={source ? "page" : undefined}>{t("nav.sources")}</a>
          <a href="#/cohorts" aria-current={cohort ? "page" : undefined}>{t("nav.cohorts")}</a>
          <a href="#/keys" aria-current={route === "/keys" ? "page" : undefined}>{t("nav.ingestKeys")}</a>
          <a href="#/find" aria-current={route === "/find" ? "page" : undefined}>{t("nav.find")}</a>
          <a href="#/events" aria-current={dictionary ? "page" : undefined}>{t("nav.dictionary")}</a>
          <a href="#/audit" aria-current={route === "/audit" ? "page" : undefined}>{t("nav.audit")}</a>
        </nav>
        <LanguageSwitch />
        <button type="button" className="link" onClick={() => void logout().then(() => setRole(undefined))}>{t("nav.logOut")}</button>
      </header>
      <main className="page">
        {route === "/new" ? <CreateWizard /> : source ? <Sources id={source[1]} readOnly={role === "readonly"} /> : cohort ? <Cohorts id={cohort[1]} readOnly={role === "readonly"} /> : current ? <CurrentPage id={current} readOnly={role === "readonly"} /> : route === "/keys" ? <IngestKeys /> : route === "/audit" ? <Audit /> : route === "/find" ? <FindEvent /> : dictionary ? <EventDictionary type={dictionary[1]} /> : <CurrentsList />}
      </main>
    </>
  );
}
