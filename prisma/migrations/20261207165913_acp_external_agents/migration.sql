-- AlterTable
ALTER TABLE "Project" ADD COLUMN     "acpAgents" TEXT[] DEFAULT ARRAY[]::TEXT[];
