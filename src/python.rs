//! TEMPORARY scaffold
