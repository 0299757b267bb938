import i18n from "i18next";
import LanguageDetector from "i18next-browser-languagedetector";
import { initReactI18next } from "react-i18next";
import { en } from "./locales/en";
import { es } from "./locales/es";
import { partnersEs } from "./locales/partners-es";

export const LANGUAGES = [{ code: "en", name: "English" }, { code: "es", name: "Español" }] as const;

/** English and Spanish, from the browser's language (or the switch in the header, remembered). */
void i18n.use(LanguageDetector).use(initReactI18next).init({
  // "partners": the server's words about its partners; English is the server's own (defaultValue).
  resources: { en: { translation: en, partners: {} }, es: { translation: es, partners: partnersEs } },
  fallbackLng: "en",
  supportedLngs: ["en", "es"],
  nonExplicitSupportedLngs: true,
  interpolation: { escapeValue: false },
  detection: { order: ["localStorage", "navigator"], lookupLocalStorage: "currents.language", caches: ["localStorage"] },
});

/** The language in use, as Intl wants it ("es", "en"). */
export const language = (): string => (i18n.resolvedLanguage ?? "en");

export default i18n;
