//! Wheel file names: `{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl`.
//!
//! The binary distribution format
//! (<https://packaging.python.org/en/latest/specifications/binary-distribution-format/>) escapes
//! `-` inside the name and version, so the fields split on `-` alone. Each tag field may be a
//! compressed tag set (`manylinux_2_17_x86_64.manylinux2014_x86_64`), split on `.`. One parser,
//! shared by the Python index source, the bundled manifest's wheel list and lock-file discovery.

/// A parsed wheel file name, borrowing from the name it was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WheelFilename<'a> {
    name: &'a str,
    version: &'a str,
    build: Option<&'a str>,
    python: &'a str,
    abi: &'a str,
    platform: &'a str,
}

impl<'a> WheelFilename<'a> {
    /// `None` unless `filename` ends in `.whl`, has five or six non-empty fields, and is one
    /// plain path component (no `/`, `\`, `..`, control characters, drive or device names:
    /// [`crate::remote::file_name_problem`]), as pip and uv require.
    pub fn parse(filename: &'a str) -> Option<WheelFilename<'a>> {
        if crate::remote::file_name_problem(filename).is_some() {
            return None;
        }
        let stem = filename.strip_suffix(".whl")?;
        let fields: Vec<&str> = stem.split('-').collect();
        if fields.iter().any(|f| f.is_empty()) {
            return None;
        }
        let (name, version, build, tags) = match fields.as_slice() {
            [name, version, tags @ ..] if tags.len() == 3 => (*name, *version, None, tags),
            [name, version, build, tags @ ..] if tags.len() == 3 => {
                (*name, *version, Some(*build), tags)
            }
            _ => return None,
        };
        Some(WheelFilename {
            name,
            version,
            build,
            python: tags[0],
            abi: tags[1],
            platform: tags[2],
        })
    }

    /// The distribution name as written (`openai_codex_cli_bin`).
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// The version as written (PEP 440, `0.154.0a6`).
    pub fn version(&self) -> &'a str {
        self.version
    }

    /// The optional build tag (`1` in `pkg-1.0-1-py3-none-any.whl`).
    pub fn build(&self) -> Option<&'a str> {
        self.build
    }

    /// The Python tags (`py3`), a compressed set split on `.`.
    pub fn python_tags(&self) -> impl Iterator<Item = &'a str> {
        self.python.split('.')
    }

    /// The ABI tags (`none`), a compressed set split on `.`.
    pub fn abi_tags(&self) -> impl Iterator<Item = &'a str> {
        self.abi.split('.')
    }

    /// The platform tags, in the order written: `manylinux_2_17_x86_64.manylinux2014_x86_64`
    /// gives both.
    pub(crate) fn platform_tags(&self) -> impl Iterator<Item = &'a str> {
        self.platform.split('.')
    }

    /// Whether one of the platform tags is `tag`.
    pub(crate) fn has_platform(&self, tag: &str) -> bool {
        self.platform_tags().any(|t| t == tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_build_tags_and_compressed_sets() {
        let w = WheelFilename::parse(
            "openai_codex_cli_bin-0.163.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        )
        .unwrap();
        assert_eq!(w.name(), "openai_codex_cli_bin");
        assert_eq!(w.version(), "0.163.0");
        assert_eq!(w.build(), None);
        assert_eq!(w.python_tags().collect::<Vec<_>>(), ["py3"]);
        assert_eq!(w.abi_tags().collect::<Vec<_>>(), ["none"]);
        assert_eq!(
            w.platform_tags().collect::<Vec<_>>(),
            ["manylinux_2_17_x86_64", "manylinux2014_x86_64"]
        );
        assert!(w.has_platform("manylinux2014_x86_64"));
        assert!(!w.has_platform("manylinux_2_17"));

        let built = WheelFilename::parse("pkg-1.0-1-py2.py3-none-win_amd64.whl").unwrap();
        assert_eq!(built.build(), Some("1"));
        assert_eq!(built.python_tags().collect::<Vec<_>>(), ["py2", "py3"]);
        assert!(built.has_platform("win_amd64"));
    }

    #[test]
    fn names_that_are_not_wheels() {
        for name in [
            "not-a-wheel.tar.gz",
            "pkg-1.0-py3-none-any.zip",
            "pkg-1.0-py3-any.whl",
            "pkg-1.0-1-2-py3-none-any.whl",
            "pkg--py3-none-any.whl",
            ".whl",
            // A build tag that is a path: the index's name must never become one.
            "openai_codex_cli_bin-0.170.0-1/../../../tmp/x/evil-py3-none-musllinux_1_1_x86_64.whl",
            "pkg-1.0-1\\..\\x-py3-none-any.whl",
            "pkg-1.0-py3-none-any.whl.",
        ] {
            assert_eq!(WheelFilename::parse(name), None, "{name}");
        }
    }
}
