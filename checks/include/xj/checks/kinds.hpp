// Spec functions of every check kind; the registry lists them in one table.
#pragma once

#include "xj/checks/spec.hpp"

namespace xj {

CheckSpec disk_check_spec();
CheckSpec cpu_check_spec();
CheckSpec memory_check_spec();
CheckSpec load_check_spec();
CheckSpec process_check_spec();
CheckSpec port_check_spec();
CheckSpec http_check_spec();
CheckSpec file_age_check_spec();
CheckSpec log_scan_check_spec();
CheckSpec exec_check_spec();
CheckSpec postgres_check_spec();
CheckSpec mysql_check_spec();
CheckSpec odbc_check_spec();
CheckSpec ethereum_check_spec();
CheckSpec fisco_bcos_check_spec();
CheckSpec tls_cert_check_spec();
CheckSpec licence_check_spec();
CheckSpec fabric_check_spec();
CheckSpec chainmaker_check_spec();

}  // namespace xj
