import { useTranslation } from "react-i18next";
import { LANGUAGES } from "../i18n";

/** English / Español, remembered in this browser. */
export function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  return (
    <label className="language"><span className="language-label">{t("nav.language")}</span>{" "}
      <select value={i18n.resolvedLanguage ?? "en"} onChange={(e) => void i18n.changeLanguage(e.target.value)}>
        {LANGUAGES.map((l) => <option key={l.code} value={l.code} lang={l.code}>{l.name}</option>)}
      </select>
    </label>
  );
}
