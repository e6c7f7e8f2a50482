//! Printing values as JSON or YAML (`-o json`, `-o yaml`).
//!
//! JSON is pretty-printed with two-space indents, as kubectl prints it; YAML
//! is one document. Several objects are printed wrapped in a `List`, as
//! kubectl does (that is the commands' business: they pass one value here).

use std::io::Write;

use serde::Serialize;

use crate::cli::OutputFormat;
use crate::exit::CliError;

/// Writes `value` as pretty JSON followed by a newline.
pub fn write_json<T: Serialize>(out: &mut dyn Write, value: &T) -> Result<(), CliError> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(|e| match e.io_error_kind() {
        Some(kind) => CliError::from(std::io::Error::from(kind)),
        None => CliError::usage(format!("cannot write JSON: {e}")),
    })?;
    writeln!(out)?;
    Ok(())
}

/// Writes `value` as one YAML document.
pub fn write_yaml<T: Serialize>(out: &mut dyn Write, value: &T) -> Result<(), CliError> {
    let text = serde_saphyr::to_string(value)
        .map_err(|e| CliError::usage(format!("cannot write YAML: {e}")))?;
    out.write_all(text.as_bytes())?;
    if !text.ends_with('\n') {
        writeln!(out)?;
    }
    Ok(())
}

/// Writes `value` as JSON or YAML; `Some(Wide)` and `Some(Name)` and `None`
/// are the command's own text forms and are refused here.
pub fn write_structured<T: Serialize>(
    out: &mut dyn Write,
    format: OutputFormat,
    value: &T,
) -> Result<(), CliError> {
    match format {
        OutputFormat::Json => write_json(out, value),
        OutputFormat::Yaml => write_yaml(out, value),
        other => Err(CliError::usage(format!(
            "--output {} is a text format, not a structured one",
            other.as_str()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Sample {
        api_version: &'static str,
        items: Vec<u16>,
    }

    fn sample() -> Sample {
        Sample {
            api_version: "v1",
            items: vec![80, 443],
        }
    }

    #[test]
    fn json_is_pretty_with_a_final_newline() {
        let mut out = Vec::new();
        write_json(&mut out, &sample()).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "{\n  \"apiVersion\": \"v1\",\n  \"items\": [\n    80,\n    443\n  ]\n}\n"
        );
    }

    #[test]
    fn yaml_round_trips() {
        let mut out = Vec::new();
        write_structured(&mut out, OutputFormat::Yaml, &sample()).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("apiVersion: v1\n"), "{text}");
        assert!(text.ends_with('\n'));
        let back: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(back["items"][1], 443);
    }

    #[test]
    fn text_formats_are_refused() {
        let mut out = Vec::new();
        assert!(write_structured(&mut out, OutputFormat::Wide, &sample()).is_err());
        assert!(out.is_empty());
    }
}
