import type { Messages } from "./en";

/** Español: las palabras que ya conoce quien usa el producto original (Integraciones de socios, Exportación de datos...). */
export const es: Messages = {
  nav: { partnerIntegrations: "Integraciones de socios", dataExport: "Exportación de datos", sources: "Fuentes", cohorts: "Cohortes", ingestKeys: "Claves de ingesta", dictionary: "Diccionario de eventos", audit: "Registro de auditoría", logOut: "Cerrar sesión", language: "Idioma", main: "Principal" },
  common: { loading: "Cargando…", optional: "opcional", back: "Atrás", next: "Siguiente", none: "ninguna", yes: "sí", no: "no", default: "predeterminado", workspace: "Espacio de trabajo" },
  login: { token: "Token de administrador", submit: "Iniciar sesión" },
  list: {
    create: "Crear nuevo Current", empty: "Aún no hay Currents. Crea uno para enviar eventos a Heap o a tu propio endpoint.",
    name: "Nombre", partner: "Socio", status: "Estado", delivered24h: "Entregados (24 h)", errors: "Errores", pending: "Pendientes", oldestPending: "Pendiente más antiguo",
  },
  status: { draft: "borrador", active: "activo", retrying: "reintentando", paused: "en pausa", failing: "con fallos", disabled: "desactivado" },
  partners: { heap: "Exportación de Heap", heap_api: "Heap (API del servidor)", custom_http: "Exportación de Currents personalizada", amplitude: "Amplitude", mixpanel: "Mixpanel", segment: "Segment", storage: "Almacenamiento (archivos Avro)" },
  settings: {
    endpoint: "URL del endpoint", bearerToken: "Token de portador",
    required: "{{label}} es obligatorio.", https: "{{label}} debe empezar por https://", fullUrl: "Escribe {{label}} completa, empezando por https://",
    number: "{{label}} debe ser un número entero entre {{min}} y {{max}}.", invalid: "{{label}} {{why}}.",
  },
  groups: { message_engagement: "Eventos de interacción con los mensajes", customer_behavior: "Eventos de comportamiento del cliente", user: "Eventos de usuario", currents_extension: "Eventos de extensión de Currents" },
  wizard: {
    title: "Crear nuevo Current",
    steps: { partner: "Elegir un socio", name: "Nombre", details: "Detalles de Current", events: "Eventos", transformations: "Transformaciones de campos", review: "Revisión" },
    partner: "Socio", exportName: "Nombre de la exportación", contactEmail: "Correo de contacto (para avisos de error)",
    nameMissing: "Ponle un nombre a la exportación.", emailInvalid: "No es una dirección de correo.", eventsMissing: "Selecciona al menos un tipo de evento.",
    perUser: "Mantener en orden los eventos de cada usuario (orden por usuario)",
    perUserHelp: "Los eventos de cada usuario llegan al socio en el orden en que se aceptaron, también tras reintentos y reinicios; los usuarios se reparten en 32 carriles que avanzan en paralelo.",
    check: "Comprobar conexión", checking: "Comprobando…", connected: "Conectado: HTTP {{status}} en {{ms}} ms.", refused: "El socio rechazó las credenciales (HTTP {{status}}).", checkFailed: "La comprobación falló: {{why}}.",
    piiLegend: "Campos de datos personales en los eventos elegidos", noPii: "Los eventos elegidos no llevan campos de datos personales.",
    transformFor: "Transformación de {{field}}", keep: "Conservar", remove: "Quitar", hash: "Hash (SHA-256)",
    contact: "Contacto", order: "Orden", perUserShort: "por usuario", noOrder: "ninguno (lo más rápido)", events: "Eventos", typesCount: "{{count}} tipos", transformations: "Transformaciones",
    launch: "Iniciar Current",
  },
  picker: {
    legend: "Eventos que exportar", selected: "{{count}} seleccionados", dictionaryHint: "Los campos de cada tipo y un evento de ejemplo:", dictionaryLink: "el diccionario de eventos",
    dictionaryAfter: "(se abre en otra pestaña; la ⓘ junto a un tipo abre su entrada).", search: "Buscar tipos de evento", searchPlaceholder: "p. ej. email, Purchase",
    selectAll: "Seleccionar todos los {{group}}", deprecated: "obsoleto", extension: "tipos propios de Currents", inDictionary: "{{type}} en el diccionario de eventos",
  },
  current: {
    back: "← Exportación de datos", delivered: "Entregados", delivered24h: "Entregados (24 h)", pending: "Pendientes", oldestPending: "Pendiente más antiguo", failedAttempts: "Intentos fallidos",
    deadLetters: "Mensajes fallidos", expired: "Caducados", held: "Retenidos por límite de tasa (ahora)", valuesCut: "Valores recortados a 1024 caracteres", lastDelivered: "Última entrega",
    lastError: "Último error", perUser: "orden por usuario", workspace: "espacio de trabajo {{workspace}}",
    retrying: "Reintentando: el socio no aceptó el último lote (detalles en Último error). Próximo intento {{when}}; los eventos esperan, no se pierde ninguno.", retryNow: "Reintentar ahora",
    failing: "Este Current tiene fallos: {{reason}}. Los eventos se conservan; corrige el endpoint o el token con Editar, o espera a la próxima comprobación automática.",
    disabled: "Este Current se desactivó tras 5 días de fallos: {{reason}}. Reanúdalo para entregar lo pendiente.",
    sendTest: "Enviar eventos de prueba", launch: "Iniciar Current", pause: "Pausar", resume: "Reanudar", edit: "Editar", delete: "Eliminar",
    recentAttempts: "Intentos recientes", time: "Hora", events: "Eventos", status: "Estado", latency: "Latencia", outcome: "Resultado", error: "Error",
    replay: "Reenviar", from: "Desde", to: "Hasta", history: "Historial", cancelJob: "Cancelar {{kind}}",
  },
  charts: {
    title: "Gráficos", window: "Periodo", lastHour: "Última hora", lastDay: "Último día", last24h: "Últimas 24 h",
    empty: "Aún no hay datos: los gráficos se llenan a medida que se entregan eventos (los puntos se escriben cada 10 s).",
    delivered: "Eventos entregados por minuto", latency: "Latencia de los lotes (ms)", backlog: "Pendientes (eventos) y pendiente más antiguo (s)",
    deliveredSeries: "entregados", failedSeries: "intentos fallidos", backlogSeries: "pendientes", oldestSeries: "pendiente más antiguo s",
  },
  volume: { title: "Volumen por tipo de evento", empty: "Nada entregado aún en este periodo: aquí aparece el recuento de cada tipo (se actualiza cada 10 s).", type: "Tipo de evento", delivered: "Entregados" },
  dead: {
    title: "Mensajes fallidos ({{count}})", redriveAll: "Reenviar todos", redriveSelected: "Reenviar seleccionados", discardSelected: "Descartar seleccionados", confirmDiscard: "¿Descartar {{count}} mensaje(s) fallido(s)?",
    select: "Seleccionar", selectOne: "Seleccionar el mensaje fallido {{id}}", event: "Evento", reason: "Motivo", answer: "Respuesta del socio", time: "Hora",
  },
  edit: { title: "Editar Current", exportName: "Nombre de la exportación", contactEmail: "Correo de contacto", update: "Actualizar Current", updated: "Current actualizado." },
  audit: { title: "Registro de auditoría", intro: "Cada cambio hecho con la API de administración o este panel: quién, qué, sobre qué objeto, cuándo y cómo terminó. Las lecturas no se registran.", empty: "Aún no hay cambios.", when: "Cuándo", who: "Quién", what: "Qué", object: "Objeto", answer: "Respuesta", from: "Desde", older: "Entradas anteriores" },
  time: { now: "ahora" },
  keys: { title: "Claves de ingesta", create: "Crear clave de ingesta", key: "Clave", created: "Creada", state: "Estado", revoke: "Revocar", revoked: "revocada", active: "activa", firstEvent: "Envía tu primer evento", fresh: "Nueva clave para {{workspace}} (se muestra una vez, cópiala ahora):" },
};
