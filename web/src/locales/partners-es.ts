/**
 * Spanish for what the server says about its partners (descriptions, settings, their help and
 * choices): `<partner>.description`, `<partner>.<setting>.label|help|pattern`, `<partner>.<setting>.choices.<value>`.
 * English needs no file: the server's own words are the English ones.
 */
const eventNames = { label: "Nombres de los eventos", help: "Cómo se llaman los eventos en el socio.", choices: { type: "El tipo de evento (users.messages.email.Open)", friendly: "Nombres legibles (Email Open)" } };
const baseUrl = { label: "URL base", help: "Opcional: sustituye la URL de la región (un proxy o un doble de pruebas)." };
const region = (help: string, choices: Record<string, string>) => ({ label: "Región", help, choices });

export const partnersEs = {
  heap: {
    description: "Envía los eventos a Heap por la URL de webhook que te da tu gestor de cuenta de Heap.",
    endpoint: { label: "URL del endpoint", help: "La URL del webhook de Heap (https://...)." },
    bearerToken: { label: "Token de portador", help: "Opcional; se envía como Authorization: Bearer." },
  },
  heap_api: {
    description: "Envía los eventos a la API de servidor de Heap solo con tu App ID; los eventos se asocian al usuario que nombra el campo de identidad.",
    appId: { label: "App ID", help: "El App ID de tu entorno de Heap (dígitos).", pattern: "deben ser los dígitos de tu App ID de Heap (Account > Manage > Projects, el id del entorno), p. ej. 1234567890" },
    region: region("Dónde están los datos de tu cuenta de Heap.", { us: "EE. UU. (heapanalytics.com)", eu: "UE (c.eu.heap-api.com)" }),
    identity: { label: "Campo de identidad", help: "Qué campo del evento nombra al usuario en Heap: external_user_id, user_id o una ruta como properties.email_address.", pattern: "debe ser external_user_id, user_id o una ruta de campo como properties.email_address" },
    eventNames,
    prefix: { label: "Prefijo del nombre del evento", help: "Opcional, p. ej. braze- para distinguir estos eventos en Heap.", pattern: "debe tener como máximo 64 caracteres, sin caracteres de control" },
    userProperties: { label: "Propiedades de usuario", help: "Campos del evento que se envían a Heap como propiedades de usuario (ruta = nombre en Heap); solo cuando cambian. Un email en minúsculas rellena el Email de Heap." },
    appEventsPerMinute: { label: "Eventos por minuto (app)", help: "El límite de Heap por App ID; súbelo solo si tu plan de Heap lo permite." },
    identityEventsPerMinute: { label: "Eventos por minuto (identidad)", help: "El límite de Heap por usuario; un usuario por encima se frena solo a él." },
    baseUrl,
  },
  custom_http: {
    description: "Envía los eventos a cualquier endpoint HTTP en el formato de Currents.",
    endpoint: { label: "URL del endpoint", help: "Adónde se envían los lotes por POST (https://...)." },
    bearerToken: { label: "Token de portador", help: "Opcional; se envía como Authorization: Bearer." },
    sign: { label: "Firmar las solicitudes", help: "Firma cada solicitud al modo de Standard Webhooks; Currents genera el secreto (se muestra una vez) salvo que indiques uno." },
    signingSecret: { label: "Secreto de firma", help: "Opcional; whsec_ + base64 de al menos 24 bytes. Uno nuevo firma junto al anterior durante 24 h (dos firmas v1)." },
    gzip: { label: "Comprimir con gzip", help: "Comprime los cuerpos (Content-Encoding: gzip); la firma cubre el JSON antes de comprimir." },
  },
  amplitude: {
    description: "Envía los eventos a la API HTTP V2 de Amplitude con la API key de tu proyecto.",
    apiKey: { label: "API key", help: "Amplitude: Settings > Projects > tu proyecto > API key." },
    region: region("Dónde están los datos de tu proyecto.", { us: "EE. UU. (api2.amplitude.com)", eu: "UE (api.eu.amplitude.com)" }),
    eventNames, baseUrl,
    throttleHoldSeconds: { label: "Espera de un usuario limitado (s)", help: "Cuánto esperan los eventos de un usuario que Amplitude limitó (Amplitude: 15-30 s)." },
  },
  mixpanel: {
    description: "Envía los eventos a la Import API de Mixpanel con una cuenta de servicio o el token de tu proyecto.",
    projectId: { label: "ID del proyecto", help: "Mixpanel: Project settings > Overview > Project ID.", pattern: "deben ser los dígitos del id de tu proyecto de Mixpanel" },
    serviceAccountUser: { label: "Usuario de la cuenta de servicio", help: "Una cuenta de servicio (Owner o Admin); o déjalo vacío e indica el token del proyecto.", pattern: "debe ser el nombre de usuario de la cuenta de servicio (sin espacios ni dos puntos)" },
    serviceAccountSecret: { label: "Secreto de la cuenta de servicio", help: "El secreto de la cuenta de servicio." },
    projectToken: { label: "Token del proyecto", help: "En lugar de una cuenta de servicio: Project settings > Access keys > Project token." },
    region: region("Dónde están los datos de tu proyecto.", { us: "EE. UU. (api.mixpanel.com)", eu: "UE (api-eu.mixpanel.com)", in: "India (api-in.mixpanel.com)" }),
    eventNames, baseUrl,
  },
  segment: {
    description: "Envía los eventos a una fuente de Segment (HTTP Tracking API) con su write key.",
    writeKey: { label: "Write key", help: "Segment: Connections > Sources > tu fuente HTTP API > Settings > API Keys." },
    region: region("Dónde están los datos de tu proyecto.", { us: "EE. UU. (api.segment.io)", eu: "UE (events.eu1.segmentapis.com)" }),
    eventNames, baseUrl,
  },
  storage: {
    description: "Escribe archivos Avro como la exportación a almacenamiento del original, en un directorio local o en cualquier bucket compatible con S3.",
    target: { label: "Destino", help: "Adónde van los archivos.", choices: { directory: "Un directorio local", s3: "Un bucket compatible con S3" } },
    directory: { label: "Directorio", help: "Destino directorio: una ruta absoluta en la que Currents pueda escribir.", pattern: "debe ser una ruta absoluta en la máquina de Currents" },
    bucket: { label: "Bucket", help: "Destino S3: el bucket.", pattern: "debe ser un nombre de bucket de S3" },
    region: { label: "Región", help: "Destino S3: la región del bucket.", pattern: "debe ser un nombre de región como eu-west-1" },
    endpoint: { label: "Endpoint", help: "Destino S3, opcional: la URL de un almacén compatible con S3 (MinIO, R2...)." },
    accessKeyId: { label: "ID de la clave de acceso", help: "Destino S3, opcional: si no, la cadena de credenciales por defecto (entorno, rol de la instancia).", pattern: "debe ser un id de clave de acceso" },
    secretAccessKey: { label: "Clave de acceso secreta", help: "Destino S3, con el id de la clave de acceso." },
    forcePathStyle: { label: "URLs con ruta", help: "Destino S3: el bucket en la ruta (la mayoría de almacenes compatibles con S3 lo necesitan)." },
    prefix: { label: "Prefijo", help: "Opcional: el prefijo de las claves de los archivos.", pattern: "debe ser un prefijo de clave (letras, dígitos, / y !_.*'()-)" },
    flushSeconds: { label: "Escribir cada (s)", help: "Se escribe un grupo de archivos al menos con esta frecuencia." },
    flushEvents: { label: "Escribir al llegar a (eventos)", help: "...o cuando esperan tantos eventos." },
  },
};
