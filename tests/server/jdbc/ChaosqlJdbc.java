// pgjdbc against `chaosql serve`: metadata, a PreparedStatement, and cancelling a long query.
// Prints one "key<TAB>value" line per fact; tests/server/test_jdbc_node.py checks them.
import java.sql.*;

public class ChaosqlJdbc {
    public static void main(String[] args) throws Exception {
        String url = args[0];
        try (Connection con = DriverManager.getConnection(url, "tester", "")) {
            DatabaseMetaData md = con.getMetaData();
            System.out.println("product\t" + md.getDatabaseProductName() + " " + md.getDatabaseProductVersion());
            try (ResultSet rs = md.getTables(null, "public", "%", new String[] {"TABLE"})) {
                while (rs.next()) System.out.println("table\t" + rs.getString("TABLE_NAME"));
            }
            try (ResultSet rs = md.getColumns(null, "public", "experiments", "%")) {
                while (rs.next()) System.out.println("column\t" + rs.getString("COLUMN_NAME") + "\t" + rs.getString("TYPE_NAME"));
            }
            try (ResultSet rs = md.getSchemas()) {
                while (rs.next()) System.out.println("schema\t" + rs.getString("TABLE_SCHEM"));
            }
            try (ResultSet rs = md.getPrimaryKeys(null, "public", "experiments")) {
                while (rs.next()) System.out.println("pk\t" + rs.getString("COLUMN_NAME"));
            }
            try (ResultSet rs = md.getIndexInfo(null, "public", "experiments", false, true)) {
                while (rs.next()) System.out.println("index\t" + rs.getString("INDEX_NAME"));
            }
            try (Statement st = con.createStatement(); ResultSet rs = st.executeQuery("SELECT name, created_at FROM experiments LIMIT 1")) {
                ResultSetMetaData rmd = rs.getMetaData();  // asks the catalog whether columns are serial
                System.out.println("meta\t" + rmd.getColumnTypeName(1) + "\t" + rmd.getColumnTypeName(2) + "\t" + rmd.isAutoIncrement(1)
                                   + "\t" + rmd.getTableName(1));
            }
            try (PreparedStatement ps = con.prepareStatement(
                    "SELECT name, target_count FROM experiments WHERE kind = ? ORDER BY cluster, namespace, name, uid LIMIT 5")) {
                for (int round = 0; round < 6; round++) {  // past prepareThreshold: a server-side named statement
                    ps.setString(1, args[1]);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) if (round == 5) System.out.println("row\t" + rs.getString(1) + "\t" + rs.getLong(2));
                    }
                }
            }
            try (Statement st = con.createStatement()) {
                Thread canceller = new Thread(() -> {
                    try { Thread.sleep(1500); st.cancel(); } catch (Exception e) { System.out.println("cancel-failed\t" + e); }
                });
                canceller.start();
                long t0 = System.nanoTime();
                try {
                    st.executeQuery("SELECT count(*) FROM range(10000000000) t(x) WHERE x % 7 = 3");
                    System.out.println("cancel\tnot-cancelled");
                } catch (SQLException e) {
                    System.out.println("cancel\t" + e.getSQLState() + "\t" + (System.nanoTime() - t0) / 1000000);
                }
                canceller.join();
                try (ResultSet rs = st.executeQuery("SELECT 42")) {
                    rs.next();
                    System.out.println("after-cancel\t" + rs.getInt(1));
                }
            }
        }
    }
}
